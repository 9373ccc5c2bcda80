//! activity/ and fraud_events.json: the Azure Activity Log of every customer's subscriptions in
//! the three export shapes (diagnostic-settings JSON lines and `{"records":[...]}` files, the REST
//! JSON array, the portal CSV), Partner Center audit records, and Partner Center fraud
//! notifications. Normal customers show a steady trickle of administrative writes from a few known
//! callers and IPs; the planted attacks add new callers, new IPs, Owner role assignments, bursts
//! of VM creations in many regions and bursts of failures.

use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::world::{
    add_months, first_of_month, guid, rng_for, stream, ActivityShape, Customer, Scenario, World,
    MSP_GUEST_PREFIX, MSP_OFFICE_IP, RING_GUEST_PREFIX, RING_IP, TAKEOVER_REGIONS,
};
use super::{io_err, write_csv, GeneratedFile};
use crate::error::Result;

mod partner_center;

pub use partner_center::write_fraud_events;
use partner_center::*;

/// Role definition id of the built-in Owner role (the same in every tenant).
const OWNER_ROLE_ID: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

#[derive(Clone)]
struct Event {
    time: NaiveDateTime,
    customer: usize,
    subscription: String,
    caller: String,
    ip: String,
    operation: String,
    status: &'static str,
    resource_group: String,
    resource_type: String,
    resource_name: String,
    location: String,
    role: Option<&'static str>,
    correlation: String,
    category: &'static str,
    /// Health events carry no resourceId.
    no_resource: bool,
}

impl Event {
    fn resource_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}",
            self.subscription, self.resource_group, self.resource_type, self.resource_name
        )
    }
}

const NORMAL_OPS: &[(&str, &str, &str)] = &[
    ("Microsoft.Web/sites/write", "Microsoft.Web/sites", "app"),
    (
        "Microsoft.Web/sites/restart/action",
        "Microsoft.Web/sites",
        "app",
    ),
    (
        "Microsoft.Storage/storageAccounts/listKeys/action",
        "Microsoft.Storage/storageAccounts",
        "st",
    ),
    (
        "Microsoft.Compute/virtualMachines/start/action",
        "Microsoft.Compute/virtualMachines",
        "vm",
    ),
    (
        "Microsoft.Compute/virtualMachines/deallocate/action",
        "Microsoft.Compute/virtualMachines",
        "vm",
    ),
    (
        "Microsoft.Resources/deployments/write",
        "Microsoft.Resources/deployments",
        "deploy",
    ),
    (
        "Microsoft.Sql/servers/databases/write",
        "Microsoft.Sql/servers",
        "sql",
    ),
    (
        "Microsoft.Network/networkSecurityGroups/write",
        "Microsoft.Network/networkSecurityGroups",
        "nsg",
    ),
    (
        "Microsoft.Insights/diagnosticSettings/write",
        "Microsoft.Insights/diagnosticSettings",
        "diag",
    ),
    (
        "Microsoft.KeyVault/vaults/write",
        "Microsoft.KeyVault/vaults",
        "kv",
    ),
];

fn at(d: NaiveDate, secs: u32) -> NaiveDateTime {
    d.and_time(
        NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0).unwrap_or_default(),
    )
}

/// Knuth's Poisson draw (small means only).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let l = (-mean).exp();
    let (mut k, mut p) = (0, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l || k > 50 {
            return k;
        }
        k += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn ev(
    c: &Customer,
    time: NaiveDateTime,
    sub: &str,
    caller: &str,
    ip: &str,
    op: &str,
    status: &'static str,
    rtype: &str,
    name: &str,
    location: &str,
    rng: &mut ChaCha8Rng,
) -> Event {
    Event {
        time,
        customer: c.index,
        subscription: sub.to_string(),
        caller: caller.to_string(),
        ip: ip.to_string(),
        operation: op.to_string(),
        status,
        resource_group: "rg-web".into(),
        resource_type: rtype.to_string(),
        resource_name: name.to_string(),
        location: location.to_string(),
        role: None,
        correlation: guid(rng),
        category: "Administrative",
        no_resource: false,
    }
}

/// A successful role assignment (`role` granted) by `caller` from `ip` at `time`.
fn role_assignment(
    c: &Customer,
    time: NaiveDateTime,
    sub: &str,
    caller: &str,
    ip: &str,
    role: &'static str,
    rng: &mut ChaCha8Rng,
) -> Event {
    let mut e = ev(
        c,
        time,
        sub,
        caller,
        ip,
        "Microsoft.Authorization/roleAssignments/write",
        "Succeeded",
        "Microsoft.Authorization/roleAssignments",
        &guid(rng),
        "global",
        rng,
    );
    e.role = Some(role);
    e
}

/// A VM created (successfully) in the customer's home region by `caller` from `ip` at `time`.
fn vm_created(
    c: &Customer,
    time: NaiveDateTime,
    sub: &str,
    caller: &str,
    ip: &str,
    name: &str,
    rng: &mut ChaCha8Rng,
) -> Event {
    ev(
        c,
        time,
        sub,
        caller,
        ip,
        "Microsoft.Compute/virtualMachines/write",
        "Succeeded",
        "Microsoft.Compute/virtualMachines",
        name,
        c.home_region,
        rng,
    )
}

/// Every activity event of one customer over the usage window.
fn customer_events(w: &World, c: &Customer) -> Vec<Event> {
    let mut rng = rng_for(w.seed, stream::ACTIVITY, c.index as u64);
    let mut out = Vec::new();
    let mean = (0.3 * (c.base_daily_usd / 40.0).powf(0.3)).clamp(0.15, 1.5);
    let active_from = c.created + Duration::days(1);
    for &d in &w.dates {
        if d < active_from {
            continue;
        }
        for _ in 0..poisson(&mut rng, mean) {
            let (op, rtype, stem) = NORMAL_OPS[rng.random_range(0..NORMAL_OPS.len())];
            let sub = &c.subs[rng.random_range(0..c.subs.len())].id;
            let caller = &c.callers[rng.random_range(0..c.callers.len())];
            let ip = &c.ips[rng.random_range(0..c.ips.len())];
            let secs = rng.random_range(7 * 3600..19 * 3600);
            let status = if rng.random_bool(0.03) {
                "Failed"
            } else {
                "Succeeded"
            };
            let name = format!("{stem}-{:02}", rng.random_range(1..6));
            let mut e = ev(
                c,
                at(d, secs),
                sub,
                caller,
                ip,
                op,
                status,
                rtype,
                &name,
                c.home_region,
                &mut rng,
            );
            e.resource_group = ["rg-web", "rg-data", "rg-shared"][rng.random_range(0..3)].into();
            out.push(e);
        }
    }
    let sub0 = c.subs[0].id.clone();
    match c.scenario {
        Scenario::AccountTakeover => takeover_events(w, c, &sub0, &mut rng, &mut out),
        Scenario::CryptoMining => crypto_mining_events(w, c, &sub0, &mut rng, &mut out),
        Scenario::StolenCard => stolen_card_events(w, c, &sub0, &mut rng, &mut out),
        Scenario::LinkedRing => linked_ring_events(w, c, &sub0, &mut rng, &mut out),
        Scenario::MspManaged => msp_events(w, c, &sub0, &mut rng, &mut out),
        Scenario::PlannedSpike => planned_spike_events(w, c, &sub0, &mut rng, &mut out),
        _ => {}
    }
    out
}

/// The date `back` days before the last date of the window.
fn day_back(w: &World, back: usize) -> NaiveDate {
    w.dates[w.dates.len().saturating_sub(1 + back)]
}

/// An account takeover: a new Owner at night two days before the end, then on each of the last
/// two nights 30 VMs in eight regions and 15 failed writes, from other IPs.
fn takeover_events(
    w: &World,
    c: &Customer,
    sub0: &str,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Event>,
) {
    let caller = format!("support.admin@{}", c.domain);
    let ips = ["185.220.101.34", "45.141.84.120", "193.142.146.7"];
    let d0 = day_back(w, 2);
    let mut e = role_assignment(
        c,
        at(d0, 22 * 3600 + 610),
        sub0,
        &caller,
        ips[0],
        "Owner",
        rng,
    );
    e.resource_group = "rg-web".into();
    out.push(e);
    let regions = TAKEOVER_REGIONS;
    for back in [1usize, 0] {
        let d = day_back(w, back);
        for k in 0..30u32 {
            let region = regions[k as usize % regions.len()];
            let secs = 3600 + k * 97 + rng.random_range(0..60);
            let ip = ips[1 + (k as usize % 2)];
            let name = format!("vm-build-{}{k:02}", 2 - back);
            let mut s = ev(
                c,
                at(d, secs),
                sub0,
                &caller,
                ip,
                "Microsoft.Compute/virtualMachines/write",
                "Started",
                "Microsoft.Compute/virtualMachines",
                &name,
                region,
                rng,
            );
            s.resource_group = "rg-tmp-build".into();
            let mut f = s.clone();
            f.time += Duration::seconds(20 + rng.random_range(0..40));
            f.status = if k % 3 == 0 { "Failed" } else { "Succeeded" };
            out.push(s);
            out.push(f);
        }
        for k in 0..15u32 {
            let op = [
                "Microsoft.Network/publicIPAddresses/write",
                "Microsoft.Compute/disks/write",
                "Microsoft.Capacity/resourceProviders/locations/serviceLimitsRequests/write",
            ][k as usize % 3];
            let rtype = [
                "Microsoft.Network/publicIPAddresses",
                "Microsoft.Compute/disks",
                "Microsoft.Capacity/resourceProviders",
            ][k as usize % 3];
            let mut f = ev(
                c,
                at(d, 2 * 3600 + k * 41),
                sub0,
                &caller,
                ips[1],
                op,
                "Failed",
                rtype,
                &format!("res-{k:02}"),
                regions[k as usize % regions.len()],
                rng,
            );
            f.resource_group = "rg-tmp-build".into();
            out.push(f);
        }
    }
}

/// Crypto mining: a quota raise, then scale sets in four regions at night, four days before the end.
fn crypto_mining_events(
    w: &World,
    c: &Customer,
    sub0: &str,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Event>,
) {
    let caller = format!("devops.sync@{}", c.domain);
    let ip = "45.155.205.233";
    let d = day_back(w, 4);
    for (k, region) in ["southcentralus", "westus3", "eastus2", "northeurope"]
        .iter()
        .enumerate()
    {
        let name = format!("vmss-node-{k}");
        let secs = 2 * 3600 + k as u32 * 75;
        let mut s = ev(
            c,
            at(d, secs),
            sub0,
            &caller,
            ip,
            "Microsoft.Compute/virtualMachineScaleSets/write",
            "Started",
            "Microsoft.Compute/virtualMachineScaleSets",
            &name,
            region,
            rng,
        );
        s.resource_group = "rg-compute-tmp".into();
        let mut f = s.clone();
        f.time += Duration::seconds(45);
        f.status = if k == 3 { "Failed" } else { "Succeeded" };
        out.push(s);
        out.push(f);
    }
    let mut q = ev(
        c,
        at(d, 2 * 3600 - 300),
        sub0,
        &caller,
        ip,
        "Microsoft.Quota/quotas/write",
        "Succeeded",
        "Microsoft.Quota/quotas",
        "standardNCSv3Family",
        "southcentralus",
        rng,
    );
    q.resource_group = "rg-compute-tmp".into();
    out.push(q);
}

/// A stolen card: four VMs the day after sign-up.
fn stolen_card_events(
    w: &World,
    c: &Customer,
    sub0: &str,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Event>,
) {
    let d = c.created + Duration::days(1);
    if w.day_index(d).is_some() {
        for k in 0..4 {
            let name = format!("vm-{k:02}");
            out.push(vm_created(
                c,
                at(d, 9 * 3600 + k * 300),
                sub0,
                &c.callers[0],
                &c.ips[0],
                &name,
                rng,
            ));
        }
    }
}

/// A linked ring: the same guest script in every tenant of the ring the day after sign-up.
fn linked_ring_events(
    w: &World,
    c: &Customer,
    sub0: &str,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Event>,
) {
    // The day after sign-up, before the tenant's own users appear, one guest account
    // (home domain bluefinmail.com) from one IP makes itself Owner, raises the quota and
    // creates three VMs: the same script in every tenant of the ring.
    let d = c.created + Duration::days(1);
    if w.day_index(d).is_some() {
        let caller = format!("{RING_GUEST_PREFIX}{}", c.domain);
        out.push(role_assignment(
            c,
            at(d, 3600 + 120),
            sub0,
            &caller,
            RING_IP,
            "Owner",
            rng,
        ));
        out.push(ev(
            c,
            at(d, 3600 + 400),
            sub0,
            &caller,
            RING_IP,
            "Microsoft.Quota/quotas/write",
            "Succeeded",
            "Microsoft.Quota/quotas",
            "standardFSv2Family",
            c.home_region,
            rng,
        ));
        for k in 0..3u32 {
            out.push(vm_created(
                c,
                at(d, 3600 + 700 + k * 60),
                sub0,
                &caller,
                RING_IP,
                &format!("vm-f16-{k:02}"),
                rng,
            ));
        }
    }
}

/// An MSP-managed customer: the MSP's contractor made Contributor two days before the end, from
/// its office.
fn msp_events(w: &World, c: &Customer, sub0: &str, rng: &mut ChaCha8Rng, out: &mut Vec<Event>) {
    // The MSP grants a contractor Contributor on each managed tenant, from its office,
    // in the same week: one actor across several customers, but established ones.
    let d = day_back(w, 2);
    out.push(role_assignment(
        c,
        at(d, 10 * 3600 + 300),
        sub0,
        &format!("{MSP_GUEST_PREFIX}{}", c.domain),
        MSP_OFFICE_IP,
        "Contributor",
        rng,
    ));
}

/// A planned spike: the load-test scale set three days before the end.
fn planned_spike_events(
    w: &World,
    c: &Customer,
    sub0: &str,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Event>,
) {
    let d = day_back(w, 3);
    out.push(ev(
        c,
        at(d, 8 * 3600),
        sub0,
        &c.callers[0],
        &c.ips[0],
        "Microsoft.Compute/virtualMachineScaleSets/write",
        "Succeeded",
        "Microsoft.Compute/virtualMachineScaleSets",
        "vmss-loadtest",
        c.home_region,
        rng,
    ));
}

/// Time in the shapes the diagnostic export has been seen with: ISO with 0 to 7 fractional digits
/// and a Z, or a US AM/PM time.
fn diag_time(t: NaiveDateTime, rng: &mut ChaCha8Rng) -> String {
    if rng.random_bool(0.03) {
        return t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string();
    }
    let digits = rng.random_range(0..=7usize);
    let frac: u32 = rng.random_range(0..10_000_000);
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    if digits == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{}Z", &format!("{frac:07}")[..digits])
    }
}

fn result_type(status: &str) -> (&'static str, &'static str) {
    match status {
        "Started" => ("Start", "Started."),
        "Accepted" => ("Accept", "Accepted.Created"),
        "Failed" => ("Failure", "Failed.Conflict"),
        _ => ("Success", "Succeeded.OK"),
    }
}

fn diag_record(w: &World, e: &Event, nested_body: bool, rng: &mut ChaCha8Rng) -> Value {
    let c = &w.customers[e.customer];
    let upper = rng.random_bool(0.06);
    let rid = e.resource_id();
    let (rid, op) = if upper {
        (rid.to_ascii_uppercase(), e.operation.to_ascii_uppercase())
    } else {
        (rid, e.operation.clone())
    };
    let (rt, sig) = result_type(e.status);
    let duration = rng.random_range(20..4000u32);
    let duration = if rng.random_bool(0.3) {
        json!(duration.to_string())
    } else {
        json!(duration)
    };
    let body = json!({"id": e.resource_id(), "name": e.resource_name, "location": e.location});
    let mut properties = json!({
        "statusCode": if e.status == "Failed" { "Conflict" } else { "OK" },
        "serviceRequestId": guid(rng),
        "eventCategory": e.category,
        "entity": e.resource_id(),
        "message": e.operation,
        "hierarchy": format!("{}/{}", c.id, e.subscription),
    });
    if e.operation.ends_with("/write") && e.status != "Started" {
        properties["responseBody"] = if nested_body {
            body
        } else {
            json!(body.to_string())
        };
    }
    if let Some(role) = e.role {
        let req = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{OWNER_ROLE_ID}", e.subscription), "principalId": guid(rng), "principalType": "User", "roleName": role}});
        properties["requestbody"] = if nested_body {
            req
        } else {
            json!(req.to_string())
        };
    }
    let mut rec = json!({
        "time": diag_time(e.time, rng),
        "operationName": op,
        "category": e.category,
        "resultType": rt,
        "resultSignature": sig,
        "durationMs": duration,
        "callerIpAddress": e.ip,
        "correlationId": e.correlation,
        "level": if e.status == "Failed" { "Error" } else { "Information" },
        "location": e.location,
        "identity": {
            "authorization": {
                "scope": e.resource_id(),
                "action": e.operation,
                "evidence": {"role": e.role.unwrap_or("Contributor"), "roleAssignmentScope": format!("/subscriptions/{}", e.subscription), "principalType": "User"}
            },
            "claims": {
                "ipaddr": e.ip,
                "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
                "name": e.caller.split('@').next().unwrap_or(""),
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": e.caller,
                "http://schemas.microsoft.com/identity/claims/tenantid": c.id,
            }
        },
        "properties": properties,
    });
    if !e.no_resource {
        rec["resourceId"] = json!(rid);
    }
    rec
}

/// A service-health record: no resourceId, no caller (these exist in real exports).
fn health_record(w: &World, d: NaiveDate, rng: &mut ChaCha8Rng) -> Value {
    let c = &w.customers[rng.random_range(0..w.customers.len())];
    json!({
        "time": diag_time(at(d, 14 * 3600 + rng.random_range(0..3600)), rng),
        "operationName": "Microsoft.ServiceHealth/incident/action",
        "category": "ServiceHealth",
        "resultType": "Active",
        "correlationId": guid(rng),
        "level": "Warning",
        "properties": {"title": "Mitigated: Intermittent latency in West Europe", "service": "Virtual Machines", "region": "West Europe", "subscriptionId": c.subs[0].id, "incidentType": "Incident"},
    })
}

fn rest_event(w: &World, e: &Event, rng: &mut ChaCha8Rng) -> Value {
    let c = &w.customers[e.customer];
    let provider = e.resource_type.split('/').next().unwrap_or("");
    let method = if e.operation.ends_with("/write") {
        "PUT"
    } else {
        "POST"
    };
    let ts = format!(
        "{}.{:07}Z",
        e.time.format("%Y-%m-%dT%H:%M:%S"),
        rng.random_range(0..10_000_000u32)
    );
    json!({
        "authorization": {"action": e.operation, "role": e.role.unwrap_or("Contributor"), "scope": e.resource_id()},
        "caller": e.caller,
        "category": {"value": e.category, "localizedValue": e.category},
        "claims": {"ipaddr": e.ip, "http://schemas.microsoft.com/identity/claims/tenantid": c.id},
        "correlationId": e.correlation,
        "eventDataId": guid(rng),
        "eventName": {"value": if e.status == "Started" { "BeginRequest" } else { "EndRequest" }},
        "eventTimestamp": ts,
        "httpRequest": {"clientIpAddress": e.ip, "method": method},
        "level": if e.status == "Failed" { "Error" } else { "Informational" },
        "operationName": {"value": e.operation, "localizedValue": e.operation},
        "resourceGroupName": e.resource_group,
        "resourceId": e.resource_id(),
        "resourceProviderName": {"value": provider},
        "resourceType": {"value": e.resource_type},
        "status": {"value": e.status, "localizedValue": e.status},
        "subStatus": {"value": if e.status == "Failed" { "Conflict" } else { "" }},
        "submissionTimestamp": ts,
        "subscriptionId": e.subscription,
        "tenantId": c.id,
    })
}

pub const PORTAL_COLUMNS: [&str; 11] = [
    "Correlation id",
    "Operation name",
    "Status",
    "Event category",
    "Level",
    "Time",
    "Subscription",
    "Event initiated by",
    "Resource type",
    "Resource group",
    "Resource",
];

fn to_json_bytes(v: &Value, pretty: bool) -> Vec<u8> {
    let r = if pretty {
        serde_json::to_vec_pretty(v)
    } else {
        serde_json::to_vec(v)
    };
    r.unwrap_or_default()
}

fn write_bytes(out: &Path, rel: &str, bytes: &[u8], rows: u64) -> Result<GeneratedFile> {
    let path = out.join(rel);
    std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
    Ok(GeneratedFile { path, rows })
}

/// A JSON array written record by record (so no whole-month JSON tree is held in memory):
/// `open`, the records one a line separated by commas, `close`; with the number of records.
fn json_array(open: &[u8], records: impl Iterator<Item = Vec<u8>>, close: &[u8]) -> (Vec<u8>, u64) {
    let (mut buf, mut n) = (open.to_vec(), 0u64);
    for record in records {
        buf.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
        buf.extend(record);
        n += 1;
    }
    buf.extend_from_slice(close);
    (buf, n)
}

/// One row of the portal's "Download as CSV" (columns of `PORTAL_COLUMNS`).
fn portal_row(e: &Event) -> Vec<String> {
    vec![
        e.correlation.clone(),
        e.operation.clone(),
        e.status.to_string(),
        e.category.to_string(),
        if e.status == "Failed" {
            "Error".into()
        } else {
            "Informational".into()
        },
        e.time.format("%-m/%-d/%Y %-I:%M:%S %p").to_string(),
        e.subscription.clone(),
        e.caller.clone(),
        e.resource_type.clone(),
        e.resource_group.clone(),
        e.resource_id(),
    ]
}

pub fn write_activity(w: &World, out: &Path) -> Result<Vec<GeneratedFile>> {
    use rayon::prelude::*;
    let per_customer: Vec<Vec<Event>> = w
        .customers
        .par_iter()
        .map(|c| customer_events(w, c))
        .collect();
    let mut events: Vec<Event> = per_customer.into_iter().flatten().collect();
    events.sort_by(|a, b| {
        (a.time, a.customer, &a.correlation, a.status).cmp(&(
            b.time,
            b.customer,
            &b.correlation,
            b.status,
        ))
    });

    let mut files = Vec::new();
    let mut month = first_of_month(w.start);
    let end_month = first_of_month(w.end);
    let mut rng = rng_for(w.seed, stream::ACTIVITY, u64::MAX);
    while month <= end_month {
        let next = add_months(month, 1);
        let key = format!("{}{:02}", month.year(), month.month());
        let in_month = |e: &&Event| e.time.date() >= month && e.time.date() < next;
        let shape_of = |e: &Event| w.customers[e.customer].activity_shape;

        // (1a) diagnostic export as JSON lines, responseBody as JSON text.
        let mut lines = Vec::new();
        let mut n = 0;
        for e in events
            .iter()
            .filter(in_month)
            .filter(|e| shape_of(e) == ActivityShape::DiagLines)
        {
            lines.extend(to_json_bytes(&diag_record(w, e, false, &mut rng), false));
            lines.push(b'\n');
            n += 1;
        }
        for k in 0..2 {
            let d = (month + Duration::days(9 + 10 * k)).min(w.end).max(w.start);
            lines.extend(to_json_bytes(&health_record(w, d, &mut rng), false));
            lines.push(b'\n');
            n += 1;
        }
        files.push(write_bytes(
            out,
            &format!("activity/diag_{key}.jsonl"),
            &lines,
            n,
        )?);

        // (1b) diagnostic export as {"records": [...]}, responseBody as nested objects.
        // Arrays are written record by record, so no whole-month JSON tree is held in memory.
        let (buf, n) = json_array(
            b"{\"records\": [",
            events
                .iter()
                .filter(in_month)
                .filter(|e| shape_of(e) == ActivityShape::DiagRecords)
                .map(|e| to_json_bytes(&diag_record(w, e, true, &mut rng), false)),
            b"\n]}\n",
        );
        files.push(write_bytes(
            out,
            &format!("activity/diag_records_{key}.json"),
            &buf,
            n,
        )?);

        // (2) REST / az monitor activity-log list: a JSON array, pretty-printed as the CLI does.
        let (buf, n) = json_array(
            b"[",
            events
                .iter()
                .filter(in_month)
                .filter(|e| shape_of(e) == ActivityShape::Rest)
                .map(|e| to_json_bytes(&rest_event(w, e, &mut rng), true)),
            b"\n]\n",
        );
        files.push(write_bytes(
            out,
            &format!("activity/rest_{key}.json"),
            &buf,
            n,
        )?);

        // (3) portal "Download as CSV".
        let rows: Vec<Vec<String>> = events
            .iter()
            .filter(in_month)
            .filter(|e| shape_of(e) == ActivityShape::PortalCsv)
            .map(portal_row)
            .collect();
        files.push(write_csv(
            out,
            &format!("activity/portal_{key}.csv"),
            &PORTAL_COLUMNS,
            &rows,
        )?);
        month = next;
    }
    files.push(write_audit(w, out)?);
    Ok(files)
}
