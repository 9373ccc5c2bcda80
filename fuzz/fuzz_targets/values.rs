//! The value parsers every source goes through: dates, timestamps, amounts (float and exact
//! decimal), booleans, months, ids, currencies, resource ids. None may panic on any text.
#![no_main]
use billrisk::ingest::values;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let c = values::clean(s);
    let _ = values::is_null_token(s);
    if let Some(d) = values::parse_date(s) {
        // Every accepted date round-trips through the day count the tables store.
        assert_eq!(values::date_from_days(values::date_days(d)), d);
    }
    if let Some(t) = values::parse_timestamp_utc(s) {
        let _ = values::timestamp_micros(t);
        let _ = values::is_open_ended(t);
    }
    let _ = values::parse_f64(s);
    for scale in [0, 2, 4] {
        let _ = values::parse_decimal(s, scale);
    }
    let _ = values::parse_bool(c);
    let _ = values::parse_month(s);
    let _ = values::normalize_id(s);
    let _ = values::parse_currency(s);
    let _ = values::subscription_of_resource(s);
});
