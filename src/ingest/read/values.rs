//! Parsers for the values found in real exports, shared by every reader (CSV through Polars, JSON
//! through serde_json): US month/day/year and ISO 8601 dates and times (0 to 9 fractional digits,
//! Z, offsets, AM/PM, an offset after AM/PM), money in plain or scientific notation with an
//! optional leading apostrophe guard, exact ledger decimals, booleans and service months.
//!
//! Hand-written rather than a crate: chrono's strftime-style parsing needs one format per shape
//! and cannot take "1 to 9 fractional digits or none, zone or no zone" in one pattern, and the
//! shapes here are few and fixed by FORMATS.md.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// Strips spaces, a surrounding pair of quotes and a leading apostrophe guard ('22.000000).
pub fn clean(s: &str) -> &str {
    let mut t = s.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t = t[1..t.len() - 1].trim();
    }
    if let Some(rest) = t.strip_prefix('\'') {
        t = rest.trim_start();
    }
    t
}

/// True for values that mean "no value": empty, NULL (FOCUS samples), null, NaN-free dashes are not.
pub fn is_null_token(s: &str) -> bool {
    let t = clean(s);
    t.is_empty() || t.eq_ignore_ascii_case("null") || t.eq_ignore_ascii_case("none")
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A date-time as written plus its UTC offset in seconds when one was given.
struct Parsed {
    local: NaiveDateTime,
    offset_secs: Option<i32>,
}

/// Parses "+01:00", "-0800", "+01", "Z", "UTC".
fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("gmt")
    {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// Parses a time "HH:MM[:SS[.fffffffff]]" with an optional trailing zone or offset glued on.
/// Returns the time and the rest of the string (zone text).
fn parse_time(s: &str) -> Option<(NaiveTime, &str)> {
    // Split off a zone: the first 'Z', '+' or '-' after the clock part.
    let end = s
        .find(|c: char| c == 'Z' || c == 'z' || c == '+' || c == '-')
        .unwrap_or(s.len());
    let (clock, zone) = s.split_at(end);
    let mut parts = clock.trim().split(':');
    let h = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let (sec, nanos) = match parts.next() {
        None => (0, 0),
        Some(sp) => {
            let (whole, frac) = match sp.split_once('.') {
                Some((w, f)) => (w, f),
                None => (sp, ""),
            };
            let sec = num(whole)?;
            if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos = if frac.is_empty() {
                0
            } else {
                let padded = format!("{frac:0<9}");
                padded.parse::<u32>().ok()?
            };
            (sec, nanos)
        }
    };
    if parts.next().is_some() {
        return None;
    }
    let t = NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)?;
    Some((t, zone))
}

fn parse_any(s: &str) -> Option<Parsed> {
    let s = clean(s);
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    // Split date from the rest at 'T' or the first space.
    let split = s.find(['T', ' ']).unwrap_or(s.len());
    let (date_part, rest) = s.split_at(split);
    let rest = rest.strip_prefix(['T', ' ']).unwrap_or(rest).trim();
    // Browsers' en-US toLocaleString puts a comma after the date: "11/14/2025, 1:48:53 AM".
    let date = parse_date_only(date_part.strip_suffix(',').unwrap_or(date_part))?;
    if rest.is_empty() {
        return Some(Parsed {
            local: date.and_hms_opt(0, 0, 0)?,
            offset_secs: None,
        });
    }
    // US style: "1:48:53 AM", "10:41:00 AM +01:00", "23:59"; ISO: "18:30:06.6045692Z".
    let mut tokens = rest.split_whitespace();
    let clock = tokens.next()?;
    let mut next = tokens.next();
    let (mut time, zone_glued) = parse_time(clock)?;
    if let Some(ampm) =
        next.filter(|t| t.eq_ignore_ascii_case("am") || t.eq_ignore_ascii_case("pm"))
    {
        let h = time.format("%H").to_string().parse::<u32>().ok()?;
        if h == 0 || h > 12 {
            return None;
        }
        let pm = ampm.eq_ignore_ascii_case("pm");
        let h24 = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
        time = time.with_hour_checked(h24)?;
        next = tokens.next();
    }
    let zone_text = match (zone_glued.trim(), next) {
        ("", None) => None,
        ("", Some(z)) => Some(z),
        (z, None) => Some(z),
        (_, Some(_)) => return None,
    };
    if tokens.next().is_some() {
        return None;
    }
    let offset_secs = match zone_text {
        None => None,
        Some(z) => Some(parse_offset(z)?),
    };
    Some(Parsed {
        local: date.and_time(time),
        offset_secs,
    })
}

trait WithHour {
    fn with_hour_checked(self, h: u32) -> Option<NaiveTime>;
}
impl WithHour for NaiveTime {
    fn with_hour_checked(self, h: u32) -> Option<NaiveTime> {
        use chrono::Timelike;
        self.with_hour(h)
    }
}

/// "2025-11-01", "11/01/2025", "9/1/2020", "2025/11/01".
fn parse_date_only(s: &str) -> Option<NaiveDate> {
    let sep = if s.contains('-') { '-' } else { '/' };
    let mut it = s.split(sep);
    let a = it.next()?;
    let b = it.next()?;
    let c = it.next()?;
    if it.next().is_some() {
        return None;
    }
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?) // ISO year-month-day
    } else if sep == '/' && c.len() == 4 {
        (num(c)?, num(a)?, num(b)?) // US month/day/year
    } else {
        return None;
    };
    if b.len() > 2 || (a.len() != 4 && a.len() > 2) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// A calendar date: the date as written (a time or zone, if any, is ignored: a usage date of
/// 2025-11-01T00:00:00-08:00 is 1 November, not 31 October).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    parse_any(s).map(|p| p.local.date())
}

/// An instant in UTC: times without a zone are read as UTC; an offset is applied.
pub fn parse_timestamp_utc(s: &str) -> Option<NaiveDateTime> {
    let p = parse_any(s)?;
    let utc = p.local - Duration::seconds(p.offset_secs.unwrap_or(0) as i64);
    Some(utc)
}

/// Microseconds since the Unix epoch of a UTC timestamp (the physical value of a Polars
/// Datetime(us, UTC) column).
pub fn timestamp_micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

/// Days since the Unix epoch (the physical value of a Polars Date column).
pub fn date_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

pub fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(Duration::days(days as i64)))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// True for the "not yet" sentinel of fraud events (9999-12-31T23:59:59.997) and any year >= 9999.
pub fn is_open_ended(t: NaiveDateTime) -> bool {
    t.year() >= 9999
}

/// A float: plain or scientific notation (9.99E-08), apostrophe guard tolerated; no NaN or inf.
pub fn parse_f64(s: &str) -> Option<f64> {
    let t = clean(s);
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    // Negative zero is zero.
    Some(if v == 0.0 { 0.0 } else { v })
}

/// Why a ledger amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    NotANumber,
    TooManyDecimals,
    TooLarge,
}

/// An exact decimal scaled by 10^scale ("12.5" at scale 4 = 125000). Scientific notation is
/// accepted when the result is exact at that scale; more decimals than the scale is an error,
/// never a silent rounding of ledger money.
pub fn parse_decimal(s: &str, scale: u32) -> Result<i128, DecimalError> {
    let t = clean(s);
    if t.is_empty() || t.len() > 64 {
        return Err(DecimalError::NotANumber);
    }
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = t[i + 1..].parse().map_err(|_| DecimalError::NotANumber)?;
            (&t[..i], e)
        }
        None => (t, 0),
    };
    let (neg, m) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac_part) = match m.split_once('.') {
        Some((i, f)) => (i, f),
        None => (m, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DecimalError::NotANumber);
    }
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        // Zero at any exponent: without this, "0e-1783010508" looped over the exponent.
        return Ok(0);
    }
    // value = digits * 10^(exp - frac_len); scaled = digits * 10^(exp - frac_len + scale)
    let shift = exp as i64 - frac_part.len() as i64 + scale as i64;
    let mut value: i128 = 0;
    for b in digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((b - b'0') as i128))
            .ok_or(DecimalError::TooLarge)?;
    }
    if shift >= 0 {
        for _ in 0..shift {
            value = value.checked_mul(10).ok_or(DecimalError::TooLarge)?;
        }
    } else {
        for _ in 0..(-shift) {
            if value % 10 != 0 {
                return Err(DecimalError::TooManyDecimals);
            }
            value /= 10;
        }
    }
    // DECIMAL(38, s): at most 38 digits.
    if value >= 10i128.pow(38) {
        return Err(DecimalError::TooLarge);
    }
    Ok(if neg { -value } else { value })
}

/// true/false, yes/no, y/n, 1/0 (any case).
pub fn parse_bool(s: &str) -> Option<bool> {
    match clean(s).to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "t" => Some(true),
        "false" | "no" | "n" | "0" | "f" => Some(false),
        _ => None,
    }
}

/// A service or budget month "YYYY-MM" (also accepts a full date or "MM/YYYY"), as "YYYY-MM".
pub fn parse_month(s: &str) -> Option<String> {
    let t = clean(s);
    if let Some((y, m)) = t.split_once('-') {
        if y.len() == 4 && m.len() <= 2 {
            let (y, m) = (num(y)?, num(m)?);
            return (1..=12).contains(&m).then(|| format!("{y:04}-{m:02}"));
        }
    }
    if let Some((m, y)) = t.split_once('/') {
        if y.len() == 4 && m.len() <= 2 {
            let (y, m) = (num(y)?, num(m)?);
            return (1..=12).contains(&m).then(|| format!("{y:04}-{m:02}"));
        }
    }
    parse_date(t).map(|d| format!("{:04}-{:02}", d.year(), d.month()))
}

/// Trimmed, lower-cased id (GUIDs compare case-insensitively), None when empty.
pub fn normalize_id(s: &str) -> Option<String> {
    let t = clean(s);
    (!t.is_empty()).then(|| t.to_ascii_lowercase())
}

/// Upper-case ISO currency code of three letters.
pub fn parse_currency(s: &str) -> Option<String> {
    let t = clean(s);
    (t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic())).then(|| t.to_ascii_uppercase())
}

/// The Azure subscription id inside a resource id (/subscriptions/<id>/...), lower-case.
pub fn subscription_of_resource(resource_id: &str) -> Option<String> {
    let lower = resource_id.to_ascii_lowercase();
    let rest = lower.split("/subscriptions/").nth(1)?;
    let id = rest.split('/').next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// The tenant id of a tenant-scoped resource id (/tenants/<id>/providers/..., any case),
/// lower-case.
pub fn tenant_of_resource(resource_id: &str) -> Option<String> {
    let lower = resource_id.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix("/tenants/")?;
    let id = rest.split('/').next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// An IPv4 or IPv6 address as text (IPv6 lower-case, as std writes it), or None for anything
/// else: a range such as 127.0.0.0/8, a host name, "unknown". An address with a port
/// (203.0.113.7:443, [2001:db8::1]:443) is the address.
pub fn client_ip(s: &str) -> Option<String> {
    use std::net::{IpAddr, SocketAddr};
    let t = s.trim();
    t.parse::<IpAddr>()
        .or_else(|_| t.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_string())
}

/// A GUID written 8-4-4-4-12 in hexadecimal (either case), surrounding blanks allowed.
pub(crate) fn looks_like_guid(s: &str) -> bool {
    let t = s.trim();
    t.len() == 36
        && t.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn ts(s: &str) -> String {
        parse_timestamp_utc(s)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn us_and_iso_dates() {
        assert_eq!(parse_date("11/01/2025"), Some(d(2025, 11, 1)));
        assert_eq!(parse_date("9/1/2020"), Some(d(2020, 9, 1)));
        assert_eq!(parse_date("2/28/2019 23:59"), Some(d(2019, 2, 28)));
        assert_eq!(parse_date("2025-11-01"), Some(d(2025, 11, 1)));
        assert_eq!(parse_date("2021-05-01T00:00:00"), Some(d(2021, 5, 1)));
        assert_eq!(
            parse_date("2019-02-04T09:22:40.17-08:00"),
            Some(d(2019, 2, 4))
        );
        assert_eq!(parse_date("'11/01/2025"), Some(d(2025, 11, 1)));
        assert_eq!(parse_date("13/45/2025"), None);
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn timestamps_in_every_shape() {
        assert_eq!(
            ts("2021-05-20T18:30:06.6045692Z"),
            "2021-05-20 18:30:06.604569200"
        );
        assert_eq!(ts("2021-05-01T00:00:00"), "2021-05-01 00:00:00");
        assert_eq!(
            ts("2019-02-04T09:22:40.17-08:00"),
            "2019-02-04 17:22:40.170"
        );
        assert_eq!(ts("11/14/2025 1:48:53 AM"), "2025-11-14 01:48:53");
        assert_eq!(ts("11/14/2025 12:05:00 AM"), "2025-11-14 00:05:00");
        assert_eq!(ts("11/14/2025 12:05:00 PM"), "2025-11-14 12:05:00");
        assert_eq!(ts("11/14/2025 1:48:53 PM"), "2025-11-14 13:48:53");
        assert_eq!(ts("1/9/2007 10:41:00 AM +01:00"), "2007-01-09 09:41:00");
        assert_eq!(ts("11/14/2025, 1:48:53 PM"), "2025-11-14 13:48:53");
        assert_eq!(ts("11/14/2025,, 1:48:53 PM"), "");
        assert_eq!(
            ts("2025-11-14 01:02:03.123456789+0530"),
            "2025-11-13 19:32:03.123456789"
        );
        assert_eq!(ts("9999-12-31T23:59:59.997"), "9999-12-31 23:59:59.997");
        assert_eq!(ts("2025-11-14T25:00:00Z"), "");
        assert_eq!(ts("11/14/2025 13:00:00 PM"), "");
        assert_eq!(ts("2025-11-14T01:00:00.1234567890Z"), "");
    }

    #[test]
    fn floats_with_real_quirks() {
        assert_eq!(parse_f64("9.99E-08"), Some(9.99e-8));
        assert_eq!(parse_f64("'22.000000"), Some(22.0));
        assert_eq!(parse_f64(" 1.5 "), Some(1.5));
        assert_eq!(parse_f64("-0"), Some(0.0));
        assert!(parse_f64("-0").unwrap().is_sign_positive());
        assert_eq!(parse_f64("1e15"), Some(1e15));
        assert_eq!(parse_f64("abc"), None);
        assert_eq!(parse_f64("NaN"), None);
        assert_eq!(parse_f64("inf"), None);
        assert_eq!(parse_f64("1,234.50"), None);
    }

    #[test]
    fn exact_decimals() {
        assert_eq!(parse_decimal("12.5", 4), Ok(125_000));
        assert_eq!(parse_decimal("-100", 4), Ok(-1_000_000));
        assert_eq!(parse_decimal("0.0001", 4), Ok(1));
        assert_eq!(parse_decimal("1.5E+03", 4), Ok(15_000_000));
        assert_eq!(parse_decimal("'22.000000", 4), Ok(220_000));
        assert_eq!(
            parse_decimal("0.00001", 4),
            Err(DecimalError::TooManyDecimals)
        );
        assert_eq!(parse_decimal("12a", 4), Err(DecimalError::NotANumber));
        assert_eq!(parse_decimal("1e40", 4), Err(DecimalError::TooLarge));
        assert_eq!(parse_decimal("-0.00", 4), Ok(0));
        assert_eq!(parse_decimal(".5", 4), Ok(5_000));
        assert_eq!(parse_decimal("-", 4), Err(DecimalError::NotANumber));
    }

    #[test]
    fn months_bools_ids() {
        assert_eq!(parse_month("2025-11").as_deref(), Some("2025-11"));
        assert_eq!(parse_month("2025-3").as_deref(), Some("2025-03"));
        assert_eq!(parse_month("11/2025").as_deref(), Some("2025-11"));
        assert_eq!(parse_month("2025-11-15").as_deref(), Some("2025-11"));
        assert_eq!(parse_month("2025-13"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("no"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(normalize_id(" ABC-1 ").as_deref(), Some("abc-1"));
        assert_eq!(parse_currency("usd").as_deref(), Some("USD"));
        assert_eq!(parse_currency("US"), None);
        assert_eq!(
            subscription_of_resource("/SUBSCRIPTIONS/AbC/resourceGroups/rg").as_deref(),
            Some("abc")
        );
        assert_eq!(subscription_of_resource("/providers/x"), None);
    }
}

#[cfg(test)]
mod properties {
    //! Property tests: no input makes a parser panic, and what is printed is read back.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(s in any::<String>()) {
            let _ = parse_date(&s);
            let _ = parse_timestamp_utc(&s);
            let _ = parse_f64(&s);
            let _ = parse_decimal(&s, 4);
            let _ = parse_bool(&s);
            let _ = parse_month(&s);
            let _ = subscription_of_resource(&s);
        }

        #[test]
        fn parsers_never_panic_on_date_like_text(s in "[0-9/:\\-T .APMZ+]{0,40}") {
            let _ = parse_date(&s);
            let _ = parse_timestamp_utc(&s);
        }

        #[test]
        fn us_and_iso_dates_round_trip(days in -25_000i32..80_000, padded in any::<bool>()) {
            let d = date_from_days(days);
            let us = if padded {
                d.format("%m/%d/%Y").to_string()
            } else {
                format!("{}/{}/{}", d.month(), d.day(), d.year())
            };
            prop_assert_eq!(parse_date(&us), Some(d));
            prop_assert_eq!(parse_date(&d.format("%Y-%m-%d").to_string()), Some(d));
        }

        #[test]
        fn timestamps_round_trip_with_offsets(secs in 0i64..4_000_000_000, nanos in 0u32..1_000_000_000, off_min in -720i32..840) {
            let t = chrono::DateTime::from_timestamp(secs, nanos).unwrap().naive_utc();
            let local = t + Duration::minutes(off_min as i64);
            let sign = if off_min < 0 { '-' } else { '+' };
            let text = format!(
                "{}{}{:02}:{:02}",
                local.format("%Y-%m-%dT%H:%M:%S%.9f"),
                sign,
                off_min.abs() / 60,
                off_min.abs() % 60
            );
            prop_assert_eq!(parse_timestamp_utc(&text), Some(t));
        }

        #[test]
        fn decimals_round_trip_exactly(units in -10i128.pow(20)..10i128.pow(20)) {
            // units are hundredths of a cent (scale 4).
            let neg = units < 0;
            let a = units.abs();
            let text = format!("{}{}.{:04}", if neg { "-" } else { "" }, a / 10_000, a % 10_000);
            prop_assert_eq!(parse_decimal(&text, 4), Ok(units));
        }

        #[test]
        fn floats_round_trip(v in -1e12f64..1e12) {
            prop_assert_eq!(parse_f64(&format!("{v:E}")), Some(if v == 0.0 { 0.0 } else { v }));
            prop_assert_eq!(parse_f64(&format!("'{v}")), Some(if v == 0.0 { 0.0 } else { v }));
        }
    }

    #[test]
    fn tenant_scoped_resource_ids_give_their_tenant() {
        assert_eq!(
            tenant_of_resource("/TENANTS/AB12-CD/PROVIDERS/MICROSOFT.AADIAM").as_deref(),
            Some("ab12-cd")
        );
        assert_eq!(
            tenant_of_resource("/tenants/t1/providers/microsoft.aadiam").as_deref(),
            Some("t1")
        );
        assert_eq!(
            tenant_of_resource("/subscriptions/s1/resourcegroups/x"),
            None
        );
        assert_eq!(tenant_of_resource("/tenants//x"), None);
    }

    #[test]
    fn only_addresses_are_client_ips() {
        assert_eq!(client_ip(" 203.0.113.7 ").as_deref(), Some("203.0.113.7"));
        assert_eq!(client_ip("2001:DB8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(client_ip("203.0.113.7:443").as_deref(), Some("203.0.113.7"));
        assert_eq!(
            client_ip("[2001:db8::1]:443").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(client_ip("127.0.0.0/8"), None);
        assert_eq!(client_ip("unknown"), None);
        assert_eq!(client_ip("5"), None);
        assert_eq!(client_ip(""), None);
    }
}
