//! Partner Center's files in the generated folder: audit records (activity/audit_records.json)
//! and Azure fraud notifications (fraud_events.json), rendered from the same world as the
//! Activity Log so their customers, callers and days agree.

use super::*;

pub(super) fn pc_time(t: NaiveDateTime, ms: u32) -> String {
    format!("{}.{ms:03}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

const PARTNER_USER: &str = "helpdesk@fabrikamcloudpartners.onmicrosoft.com";
const AUDIT_APP: &str = "a9b2f9b6-1d2c-4f3e-9a7b-2d7c4c1e0f11";

/// An audit record with its time and customer index (the sort key of the file).
type AuditRecord = (NaiveDateTime, usize, Value);

/// One Partner Center audit record of customer `c` at `t`.
#[allow(clippy::too_many_arguments)]
fn rec(
    c: &Customer,
    t: NaiveDateTime,
    user: &str,
    rtype: &str,
    op: &str,
    old: Value,
    new: Value,
    ms: u32,
) -> Value {
    json!({
        "customerId": c.id,
        "customerName": c.name,
        "userPrincipalName": user,
        "applicationId": AUDIT_APP,
        "resourceType": rtype,
        "operationType": op,
        "operationDate": pc_time(t, ms),
        "operationStatus": "succeeded",
        "resourceOldValue": if old.is_null() { Value::Null } else { json!(old.to_string()) },
        "resourceNewValue": json!(new.to_string()),
    })
}

pub(super) fn write_audit(w: &World, out: &Path) -> Result<GeneratedFile> {
    let mut rng = rng_for(w.seed, stream::ACTIVITY, u64::MAX - 1);
    let partner_user = PARTNER_USER;
    let mut recs: Vec<AuditRecord> = Vec::new();
    let window_start = w.start;
    for c in &w.customers {
        let ms = rng.random_range(0..1000);
        if c.created >= window_start {
            let t = at(c.created, 10 * 3600 + rng.random_range(0..3600));
            recs.push((
                t,
                c.index,
                rec(
                    c,
                    t,
                    partner_user,
                    "customer",
                    "add_customer",
                    Value::Null,
                    json!({"companyName": c.name, "country": c.country}),
                    ms,
                ),
            ));
            let t2 = t + Duration::minutes(20);
            recs.push((
                t2,
                c.index,
                rec(
                    c,
                    t2,
                    partner_user,
                    "order",
                    "create_order",
                    Value::Null,
                    json!({"offer": "Azure plan"}),
                    ms,
                ),
            ));
        }
        if rng.random_bool(0.15) {
            let d = w.dates[rng.random_range(0..w.dates.len())].max(c.created + Duration::days(1));
            let t = at(d, 9 * 3600 + rng.random_range(0..28_800));
            recs.push((
                t,
                c.index,
                rec(
                    c,
                    t,
                    partner_user,
                    "customer",
                    "update_customer_spending_budget",
                    json!({"amount": 1000}),
                    json!({"amount": 2000}),
                    ms,
                ),
            ));
        }
        if c.scenario == Scenario::AccountTakeover {
            takeover_audit(w, c, partner_user, &mut recs);
        }
        if c.scenario == Scenario::CryptoMining {
            crypto_mining_audit(w, c, &mut recs);
        }
    }
    recs.sort_by_key(|r| (r.0, r.1));
    let n = recs.len() as u64;
    let arr = Value::Array(recs.into_iter().map(|r| r.2).collect());
    write_bytes(
        out,
        "activity/audit_records.json",
        &to_json_bytes(&arr, true),
        n,
    )
}

/// The audit trail of an account takeover: a password reset and a new user the evening three days
/// before the end, a spending limit raised the evening after.
fn takeover_audit(w: &World, c: &Customer, partner_user: &str, recs: &mut Vec<AuditRecord>) {
    let n = w.dates.len();
    let d3 = w.dates[n.saturating_sub(4)];
    let d2 = w.dates[n.saturating_sub(3)];
    let upn = format!("support.admin@{}", c.domain);
    let t = at(d3, 21 * 3600 + 35 * 60);
    recs.push((
        t,
        c.index,
        rec(
            c,
            t,
            partner_user,
            "customer_user",
            "reset_customer_user_password",
            json!({"userPrincipalName": c.callers[0]}),
            json!({"userPrincipalName": c.callers[0], "forceChangePassword": false}),
            120,
        ),
    ));
    let t = at(d3, 21 * 3600 + 38 * 60);
    recs.push((
        t,
        c.index,
        rec(
            c,
            t,
            partner_user,
            "customer_user",
            "create_customer_user",
            Value::Null,
            json!({"userPrincipalName": upn, "displayName": "Support Admin"}),
            480,
        ),
    ));
    let t = at(d2, 21 * 3600 + 50 * 60);
    recs.push((
        t,
        c.index,
        rec(
            c,
            t,
            partner_user,
            "subscription",
            "increase_spending_limit",
            json!({"spendingLimit": 1000}),
            json!({"spendingLimit": 50000}),
            910,
        ),
    ));
}

/// The Azure fraud event of crypto mining, the night after its scale sets start.
fn crypto_mining_audit(w: &World, c: &Customer, recs: &mut Vec<AuditRecord>) {
    let n = w.dates.len();
    let t = at(w.dates[n.saturating_sub(4)], 3 * 3600 + 300);
    recs.push((
        t,
        c.index,
        rec(
            c,
            t,
            "system",
            "azure_fraud_event",
            "azure_fraud_event_detected",
            Value::Null,
            json!({"eventType": "NetworkConnectionsToCryptoMiningPools"}),
            233,
        ),
    ));
}

/// Partner Center time: ISO without zone, milliseconds.
pub(super) fn fraud_time(t: NaiveDateTime) -> String {
    format!(
        "{}.{:03}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        (t.second() * 37) % 1000
    )
}

pub fn write_fraud_events(w: &World, out: &Path) -> Result<GeneratedFile> {
    let mut rng = rng_for(w.seed, stream::ACTIVITY, u64::MAX - 2);
    let mut events: Vec<(NaiveDateTime, Value)> = Vec::new();
    let n = w.dates.len();
    let fe = |c: &Customer,
              rng: &mut ChaCha8Rng,
              t: NaiveDateTime,
              first: NaiveDateTime,
              last: Option<NaiveDateTime>,
              etype: &str,
              status: &str,
              reason: &str,
              sev: &str,
              hits: u32,
              resources: Vec<Value>| {
        json!({
            "eventTime": fraud_time(t),
            "eventId": guid(rng),
            "customerTenantId": c.id,
            "customerFriendlyName": c.name,
            "subscriptionId": c.subs[0].id,
            "subscriptionName": c.subs[0].name,
            "entityId": c.subs[0].id,
            "entityName": c.subs[0].name,
            "hitCount": hits.to_string(),
            "eventStatus": status,
            "resolvedReason": if reason.is_empty() { Value::Null } else { json!(reason) },
            "firstOccurrence": fraud_time(first),
            "lastOccurrence": last.map(fraud_time).unwrap_or_else(|| "9999-12-31T23:59:59.997".into()),
            "eventType": etype,
            "severity": sev,
            "confidenceLevel": if sev == "High" { "High" } else { "Medium" },
            "displayName": etype,
            "description": format!("{etype} detected on subscription {}", c.subs[0].name),
            "country": c.country,
            "affectedResources": resources,
        })
    };
    for c in &w.customers {
        match (c.scenario, c.role) {
            (Scenario::CryptoMining, _) => {
                let first = at(w.dates[n.saturating_sub(4)], 3 * 3600 + 5 * 60 + 11);
                let t = first + Duration::hours(30);
                let res = vec![
                    json!({"resourceName": "gpu-node-01", "resourceType": "Microsoft.Compute/virtualMachines", "resourceGroupName": "rg-compute-tmp"}),
                ];
                events.push((
                    t,
                    fe(
                        c,
                        &mut rng,
                        t,
                        first,
                        None,
                        "NetworkConnectionsToCryptoMiningPools",
                        "Active",
                        "",
                        "High",
                        57,
                        res,
                    ),
                ));
            }
            (_, crate::generate::world::Role::UnknownInvoice) => {
                let first = at(w.dates[n / 3], 11 * 3600 + 20);
                let last = first + Duration::hours(5);
                events.push((
                    first,
                    fe(
                        c,
                        &mut rng,
                        first,
                        first,
                        Some(last),
                        "UsageAnomalyDetection",
                        "Resolved",
                        "Ignore",
                        "Medium",
                        3,
                        vec![],
                    ),
                ));
            }
            (_, crate::generate::world::Role::Overpayment) => {
                let first = at(w.dates[n / 2], 16 * 3600 + 7);
                events.push((
                    first,
                    fe(
                        c,
                        &mut rng,
                        first,
                        first,
                        Some(first),
                        "ServiceHealthSecurityAdvisory",
                        "Resolved",
                        "Ignore",
                        "Low",
                        1,
                        vec![],
                    ),
                ));
            }
            _ => {}
        }
    }
    events.sort_by_key(|e| e.0);
    let n = events.len() as u64;
    let arr = Value::Array(events.into_iter().map(|e| e.1).collect());
    write_bytes(out, "fraud_events.json", &to_json_bytes(&arr, true), n)
}
