//! The planted scenarios: which risk pattern or benign look-alike each planted customer follows,
//! and the fixed callers, addresses and regions the linked ring, the MSP and a takeover use.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    CryptoMining,
    StolenCard,
    AccountTakeover,
    ChronicNonPayer,
    BudgetBlowout,
    SteadyGrowth,
    WeeklyBatch,
    LargeSteady,
    PlannedSpike,
    LatePayer,
    OverBudget,
    /// An established GPU user (two NC24s v3 nodes, 24 h a day) adds two more nodes.
    GpuExpansion,
    /// A new, verified customer ramping up to a large spend over its first 10 days.
    NewRampUp,
    /// An established customer moving every resource to a region it never used.
    RegionMove,
    /// A batch job on the last two days of every month (~12x).
    MonthEndBatch,
    /// An established customer's first GPU trial: one NC24s v3 for 5 hours.
    GpuTrial,
    /// One actor behind three new customers created the same day (planted three times).
    LinkedRing,
    /// Established customers managed by one MSP: its admin account from its office IP.
    MspManaged,
    /// Legitimate established customers in a country a high-risk list would name (NG).
    ListedCountry,
    Normal,
}

pub const PLANTED: [Scenario; 24] = [
    Scenario::CryptoMining,
    Scenario::StolenCard,
    Scenario::AccountTakeover,
    Scenario::ChronicNonPayer,
    Scenario::BudgetBlowout,
    Scenario::SteadyGrowth,
    Scenario::WeeklyBatch,
    Scenario::LargeSteady,
    Scenario::PlannedSpike,
    Scenario::LatePayer,
    Scenario::OverBudget,
    Scenario::GpuExpansion,
    Scenario::NewRampUp,
    Scenario::RegionMove,
    Scenario::MonthEndBatch,
    Scenario::GpuTrial,
    Scenario::LinkedRing,
    Scenario::LinkedRing,
    Scenario::LinkedRing,
    Scenario::MspManaged,
    Scenario::MspManaged,
    Scenario::MspManaged,
    Scenario::ListedCountry,
    Scenario::ListedCountry,
];

/// The regions an account takeover creates VMs in: the activity log writes to all eight, the
/// usage bills the first six.
pub const TAKEOVER_REGIONS: [&str; 8] = [
    "brazilsouth",
    "koreacentral",
    "southeastasia",
    "centralindia",
    "japaneast",
    "swedencentral",
    "eastus2",
    "westus3",
];

/// The MSP of the `msp_managed` customers: its admin (a guest in each tenant) and office IP.
pub const MSP_GUEST_PREFIX: &str = "admin_northbridge-msp.com#EXT#@";
pub const MSP_OFFICE_IP: &str = "203.0.113.10";
/// The linked ring's shared guest (home domain bluefinmail.com) and client IP.
pub const RING_GUEST_PREFIX: &str = "ops_bluefinmail.com#EXT#@";
pub const RING_IP: &str = "185.220.101.7";

impl Scenario {
    pub fn id(self) -> &'static str {
        match self {
            Scenario::CryptoMining => "crypto_mining",
            Scenario::StolenCard => "stolen_card",
            Scenario::AccountTakeover => "account_takeover",
            Scenario::ChronicNonPayer => "chronic_non_payer",
            Scenario::BudgetBlowout => "budget_blowout",
            Scenario::SteadyGrowth => "steady_growth",
            Scenario::WeeklyBatch => "weekly_batch",
            Scenario::LargeSteady => "large_steady",
            Scenario::PlannedSpike => "planned_spike",
            Scenario::LatePayer => "late_payer",
            Scenario::OverBudget => "over_budget",
            Scenario::GpuExpansion => "gpu_expansion",
            Scenario::NewRampUp => "new_customer_ramp_up",
            Scenario::RegionMove => "region_move",
            Scenario::MonthEndBatch => "month_end_batch",
            Scenario::GpuTrial => "gpu_trial",
            Scenario::LinkedRing => "linked_ring",
            Scenario::MspManaged => "msp_managed",
            Scenario::ListedCountry => "listed_country",
            Scenario::Normal => "normal",
        }
    }

    /// The label a correct analysis should reach (labels.csv `expected`).
    pub fn expected(self) -> &'static str {
        match self {
            Scenario::CryptoMining
            | Scenario::StolenCard
            | Scenario::AccountTakeover
            | Scenario::LinkedRing => "fraud",
            Scenario::SteadyGrowth
            | Scenario::WeeklyBatch
            | Scenario::LargeSteady
            | Scenario::PlannedSpike
            | Scenario::GpuExpansion
            | Scenario::NewRampUp
            | Scenario::RegionMove
            | Scenario::MonthEndBatch
            | Scenario::GpuTrial
            | Scenario::MspManaged
            | Scenario::ListedCountry => "benign",
            Scenario::ChronicNonPayer | Scenario::LatePayer => "late_payer",
            Scenario::BudgetBlowout | Scenario::OverBudget => "over_budget",
            Scenario::Normal => "normal",
        }
    }
}
