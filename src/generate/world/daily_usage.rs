//! The daily quantity and cost of every meter a customer runs: its everyday meters (spend
//! shares, weekends, growth, batches, noise) and the resources of its planted scenario, rated as
//! the files write them. Called once per customer by `build_customer`, on that customer's stream.

use super::*;

fn casing(rng: &mut ChaCha8Rng, s: &str) -> String {
    match rng.random_range(0..6) {
        0 => s.to_ascii_lowercase(),
        1 => s.to_ascii_uppercase(),
        _ => s.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn new_use(
    w: &World,
    c: &Customer,
    rng: &mut ChaCha8Rng,
    meter: usize,
    sub: usize,
    region: &'static str,
    rg: &str,
    res: &str,
) -> MeterUse {
    let m = &w.meters[meter];
    let provider = m.service;
    let uri = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/{provider}/{}/{res}",
        c.subs[sub].id, m.resource_type
    );
    let resource_uri = match rng.random_range(0..5) {
        0 => uri.to_ascii_lowercase(),
        1 => uri.replace("resourceGroups", "resourcegroups"),
        _ => uri,
    };
    let env = if c.subs[sub].name == "Dev/Test" {
        "dev"
    } else {
        "prod"
    };
    MeterUse {
        meter,
        sub,
        region,
        resource_group: rg.to_string(),
        resource_uri,
        consumed_service: casing(rng, provider),
        tags: format!(
            "{{\"env\":\"{env}\",\"costCenter\":\"cc-{:03}\"}}",
            c.index % 1000
        ),
        qty: vec![0.0; w.dates.len()],
        cost: vec![0.0; w.dates.len()],
    }
}

/// Daily quantities for every meter the customer runs, scenario effects included.
pub(super) fn build_usage(w: &World, c: &mut Customer, rng: &mut ChaCha8Rng) {
    use Scenario as S;
    let n_days = w.dates.len();
    let first_day = w
        .day_index(c.created + Duration::days(1))
        .unwrap_or(if c.created < w.start { 0 } else { n_days });
    let chosen = choose_meters(c, rng);
    everyday_uses(w, c, rng, &chosen, first_day);

    // Scenario-specific resources.
    let last = n_days.saturating_sub(1);
    match c.scenario {
        S::CryptoMining => crypto_mining_uses(w, c, rng, last),
        S::AccountTakeover => takeover_uses(w, c, rng, last),
        S::GpuExpansion => gpu_expansion_uses(w, c, rng, first_day, last),
        S::RegionMove => region_move_uses(w, c, rng, last),
        S::GpuTrial => gpu_trial_uses(w, c, rng, last),
        // Each member runs ~130 USD a day of F16s v2 from its first day.
        S::LinkedRing => fast_compute(w, c, rng, first_day, 8.0, 50.0),
        // Spends fast on compute from its second day: ~600 USD a day on F16s v2.
        S::StolenCard => fast_compute(w, c, rng, first_day, 36.0, 400.0),
        S::BudgetBlowout => budget_blowout_ramp(w, c),
        _ => {}
    }
    rate_uses(w, c);
}

/// The customer's everyday meters: distinct normal meters, VM D-series first most of the time
/// (an F16s v2 and bandwidth for the new-customer fraud scenarios).
fn choose_meters(c: &Customer, rng: &mut ChaCha8Rng) -> Vec<usize> {
    use Scenario as S;
    let n_meters = match c.scenario {
        S::WeeklyBatch => 4,
        S::StolenCard | S::LinkedRing => 2,
        _ => rng.random_range(3..=8),
    };
    let mut pool: Vec<usize> = NORMAL_METERS.filter(|m| *m != M_TINY).collect();
    for i in (1..pool.len()).rev() {
        let j = rng.random_range(0..=i);
        pool.swap(i, j);
    }
    let mut chosen: Vec<usize> = Vec::new();
    if matches!(c.scenario, S::StolenCard | S::LinkedRing) {
        chosen = vec![M_F16, M_BANDWIDTH];
    } else {
        if rng.random_bool(0.8) || c.scenario == S::WeeklyBatch {
            chosen.push(if c.scenario == S::WeeklyBatch {
                M_D8
            } else {
                M_D2 + rng.random_range(0..3)
            });
        }
        for m in pool {
            if chosen.len() >= n_meters {
                break;
            }
            if !chosen.contains(&m) {
                chosen.push(m);
            }
        }
        if rng.random_bool(0.5) {
            chosen.push(M_TINY);
        }
    }
    chosen
}

/// The usage of the everyday meters from `first_day`: a spend share each, weekends, growth,
/// batches and noise by scenario.
fn everyday_uses(
    w: &World,
    c: &mut Customer,
    rng: &mut ChaCha8Rng,
    chosen: &[usize],
    first_day: usize,
) {
    use Scenario as S;
    let n_days = w.dates.len();
    // Spend shares (tiny ops have no share: they cost fractions of a cent).
    let weights: Vec<f64> = chosen
        .iter()
        .enumerate()
        .map(|(k, m)| match (*m, c.scenario, k) {
            (M_TINY, _, _) => 0.0,
            // the Saturday batch job is most of this customer's spend
            (_, S::WeeklyBatch, 0) => 4.0,
            _ => rng.random_range(0.3..1.0),
        })
        .collect();
    let mut wsum: f64 = weights.iter().sum();
    if wsum <= 0.0 {
        wsum = 1.0;
    }
    let rgs = [
        "rg-web",
        "rg-data",
        "rg-shared",
        "RG-PROD-APP",
        "rg-analytics",
        "rg-dev",
    ];
    for (k, &m) in chosen.iter().enumerate() {
        let sub = k % c.subs.len();
        let rg = rgs[rng.random_range(0..rgs.len())];
        let res = format!(
            "{}-{:02}",
            w.meters[m]
                .resource_type
                .to_ascii_lowercase()
                .trim_end_matches('s'),
            k + 1
        );
        let mut u = new_use(w, c, rng, m, sub, c.home_region, rg, &res);
        let price = w.meters[m].price;
        let share = weights[k] / wsum;
        let mut base_qty = share * c.base_daily_usd / price;
        if m == M_TINY {
            base_qty = rng.random_range(0.00005..0.0004);
        }
        let flat = matches!(
            w.meters[m].kind,
            MeterKind::Disk | MeterKind::Blob | MeterKind::Sql
        ) || rng.random_bool(0.5);
        let weekend = if flat || c.scenario == S::LargeSteady {
            1.0
        } else {
            rng.random_range(0.35..0.75)
        };
        let noise_sd = match c.scenario {
            S::LargeSteady | S::BudgetBlowout | S::OverBudget => 0.02,
            _ if w.meters[m].kind == MeterKind::Bandwidth => 0.2,
            _ => rng.random_range(0.04..0.1),
        };
        for d in first_day..n_days {
            let date = w.dates[d];
            let wd = date.weekday();
            let is_weekend = matches!(wd, Weekday::Sat | Weekday::Sun);
            let mut f = if is_weekend { weekend } else { 1.0 };
            match c.scenario {
                S::SteadyGrowth => f *= 1.02f64.powf(d as f64 / 7.0),
                S::WeeklyBatch if k == 0 => f = if wd == Weekday::Sat { 9.0 } else { 0.1 },
                S::PlannedSpike if d + 4 == n_days => f *= 10.0,
                S::MonthEndBatch if k == 0 && date.day() as i64 + 1 >= days_in_month(date) => {
                    f *= 12.0
                }
                S::NewRampUp => f *= ((d + 1 - first_day) as f64 / 10.0).min(1.0),
                _ => {}
            }
            let noise = (1.0 + noise_sd * normal(rng)).max(0.05);
            u.qty[d] = base_qty * f * noise;
        }
        c.uses.push(u);
    }
}

/// Compute running around the clock from `first_day`: `vms` F16s v2 VMs 24 h a day and
/// `other_qty` of every other meter, with noise.
fn fast_compute(
    w: &World,
    c: &mut Customer,
    rng: &mut ChaCha8Rng,
    first_day: usize,
    vms: f64,
    other_qty: f64,
) {
    let n_days = w.dates.len();
    for u in c.uses.iter_mut() {
        let m = u.meter;
        for d in first_day..n_days {
            u.qty[d] = if m == M_F16 {
                24.0 * vms * (1.0 + 0.03 * normal(rng))
            } else {
                other_qty * (1.0 + 0.2 * normal(rng)).max(0.1)
            };
        }
    }
}

/// Crypto mining: GPU VMs in regions the customer never used, 24 h a day, the last five days.
fn crypto_mining_uses(w: &World, c: &mut Customer, rng: &mut ChaCha8Rng, last: usize) {
    // Stolen credentials: GPU VMs in regions the customer never used, 24 h a day.
    let sub = 0;
    let plan: [(usize, &'static str, &str); 4] = [
        (M_NC24, "southcentralus", "gpu-node-01"),
        (M_NC24, "southcentralus", "gpu-node-02"),
        (M_NC24, "southcentralus", "gpu-node-03"),
        (M_ND96, "westus3", "a100-node-01"),
    ];
    for (m, region, res) in plan {
        let mut u = new_use(w, c, rng, m, sub, region, "rg-compute-tmp", res);
        for d in last.saturating_sub(4)..w.dates.len() {
            u.qty[d] = 24.0;
        }
        c.uses.push(u);
    }
}

/// Account takeover: D16 VMs in six new regions, the last two days.
fn takeover_uses(w: &World, c: &mut Customer, rng: &mut ChaCha8Rng, last: usize) {
    for (k, region) in TAKEOVER_REGIONS[..6].iter().enumerate() {
        let mut u = new_use(
            w,
            c,
            rng,
            M_D16,
            0,
            region,
            "rg-tmp-build",
            &format!("vm-build-{k:02}"),
        );
        for d in last.saturating_sub(1)..w.dates.len() {
            u.qty[d] = if d == last { 24.0 } else { 14.0 };
        }
        c.uses.push(u);
    }
}

/// GPU expansion: two GPU nodes all along, two more the last five days.
fn gpu_expansion_uses(
    w: &World,
    c: &mut Customer,
    rng: &mut ChaCha8Rng,
    first_day: usize,
    last: usize,
) {
    // Two GPU nodes 24 h a day all along; two more from 5 days before end, same meter,
    // same region.
    for k in 1..=4usize {
        let res = format!("gpu-node-{k:02}");
        let mut u = new_use(w, c, rng, M_NC24, 0, c.home_region, "rg-ml", &res);
        let from = if k <= 2 {
            first_day
        } else {
            last.saturating_sub(4)
        };
        for d in from..w.dates.len() {
            u.qty[d] = 24.0;
        }
        c.uses.push(u);
    }
}

/// Region move: every resource moves to a region the customer never used, the last five days.
fn region_move_uses(w: &World, c: &mut Customer, rng: &mut ChaCha8Rng, last: usize) {
    let n_days = w.dates.len();
    // From 5 days before end every resource runs in a region the customer never used
    // (new resource ids there); the old ones stop.
    let target = ["swedencentral", "northeurope", "uksouth"]
        .into_iter()
        .find(|r| *r != c.home_region)
        .unwrap_or("swedencentral");
    let from = last.saturating_sub(4);
    let mut moved = Vec::new();
    for k in 0..c.uses.len() {
        let (meter, sub, rg) = (
            c.uses[k].meter,
            c.uses[k].sub,
            c.uses[k].resource_group.clone(),
        );
        let res = format!(
            "{}-{:02}-sc",
            w.meters[meter]
                .resource_type
                .to_ascii_lowercase()
                .trim_end_matches('s'),
            k + 1
        );
        let mut u = new_use(w, c, rng, meter, sub, target, &rg, &res);
        for d in from..n_days {
            u.qty[d] = c.uses[k].qty[d];
        }
        moved.push(u);
    }
    for u in c.uses.iter_mut() {
        for d in from..n_days {
            u.qty[d] = 0.0;
        }
    }
    c.uses.extend(moved);
}

/// GPU trial: one GPU VM for five hours, three days before the end.
fn gpu_trial_uses(w: &World, c: &mut Customer, rng: &mut ChaCha8Rng, last: usize) {
    // One GPU VM for 5 hours, 3 days before end, in the home region.
    let mut u = new_use(
        w,
        c,
        rng,
        M_NC24,
        0,
        c.home_region,
        "rg-ml-trial",
        "gpu-trial-01",
    );
    u.qty[last.saturating_sub(3)] = 5.0;
    c.uses.push(u);
}

/// Budget blowout: spend ramps up over the last eight days of the month of the end.
fn budget_blowout_ramp(w: &World, c: &mut Customer) {
    let n_days = w.dates.len();
    let end_month = first_of_month(w.end);
    // Spend ramps up from 8 days before end (within the month of end) to a peak p chosen
    // so that mtd at end is 1.18 months of normal spend: the budget (set between mtd the
    // day before end and mtd at end, ~1.12 normal months) is then crossed by the forecast
    // a few days into the ramp and by mtd only on the last day.
    let start_ramp = w
        .dates
        .iter()
        .position(|d| *d >= end_month && *d >= w.end - Duration::days(8))
        .unwrap_or(n_days);
    let cost = |u: &MeterUse, d: usize| u.qty[d] * w.meters[u.meter].price;
    let day_total = |d: usize| c.uses.iter().map(|u| cost(u, d)).sum::<f64>();
    let before: Vec<f64> = (0..n_days)
        .filter(|d| w.dates[*d] < end_month)
        .map(day_total)
        .collect();
    let normal_daily = if before.is_empty() {
        c.base_daily_usd
    } else {
        before.iter().sum::<f64>() / before.len() as f64
    };
    let target = 1.18 * normal_daily * days_in_month(w.end) as f64;
    let pre: f64 = (0..start_ramp)
        .filter(|d| w.dates[*d] >= end_month)
        .map(day_total)
        .sum();
    let ramp = |d: usize| ((d - start_ramp + 1) as f64 / 4.0).min(1.0);
    let s0: f64 = (start_ramp..n_days).map(day_total).sum();
    let s1: f64 = (start_ramp..n_days).map(|d| day_total(d) * ramp(d)).sum();
    let peak = if s1 > 0.0 {
        (1.0 + (target - pre - s0) / s1).clamp(1.5, 6.0)
    } else {
        1.0
    };
    for u in c.uses.iter_mut() {
        for d in start_ramp..n_days {
            u.qty[d] *= 1.0 + (peak - 1.0) * ramp(d);
        }
    }
}

/// Rates every day: quantity and totals rounded as written.
fn rate_uses(w: &World, c: &mut Customer) {
    let n_days = w.dates.len();
    for u in c.uses.iter_mut() {
        let price = w.meters[u.meter].price;
        for d in 0..n_days {
            if u.qty[d] > 0.0 {
                let rate = w.pc_to_bc(c.currency, w.dates[d]);
                let (q, _, billing) = rated(u.qty[d], price, rate);
                u.qty[d] = q;
                u.cost[d] = billing;
            }
        }
    }
}
