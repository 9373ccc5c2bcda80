//! The world's fixed data: the Azure meter catalogue (categories, series, units, prices), the
//! regions and the countries customers come from.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterKind {
    Vm,
    Gpu,
    Disk,
    Blob,
    TinyOps,
    Bandwidth,
    Sql,
    AppService,
    Logs,
    Cosmos,
}

pub struct Meter {
    pub category: &'static str,
    pub sub_category: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    /// USD per unit.
    pub price: f64,
    pub service: &'static str,
    pub resource_type: &'static str,
    pub kind: MeterKind,
    pub id: String,
}

/// Category, subcategory, name, unit, USD price, provider, resource type, kind.
type CatalogRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
    &'static str,
    MeterKind,
);

pub(super) const CATALOG: &[CatalogRow] = &[
    (
        "Virtual Machines",
        "Dv5 Series",
        "D2s v5",
        "1 Hour",
        0.096,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Vm,
    ),
    (
        "Virtual Machines",
        "Dv5 Series",
        "D4s v5",
        "1 Hour",
        0.192,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Vm,
    ),
    (
        "Virtual Machines",
        "Dv5 Series",
        "D8s v5",
        "1 Hour",
        0.384,
        "Microsoft.Compute",
        "virtualMachineScaleSets",
        MeterKind::Vm,
    ),
    (
        "Virtual Machines",
        "BS Series",
        "B2s",
        "1 Hour",
        0.0416,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Vm,
    ),
    (
        "Storage",
        "Premium SSD Managed Disks",
        "P10 LRS Disk",
        "1/Month",
        19.71,
        "Microsoft.Compute",
        "disks",
        MeterKind::Disk,
    ),
    (
        "Storage",
        "Tiered Block Blob",
        "Hot LRS Data Stored",
        "1 GB/Month",
        0.0184,
        "Microsoft.Storage",
        "storageAccounts",
        MeterKind::Blob,
    ),
    (
        "Storage",
        "Standard Page Blob",
        "Batch Write Operations",
        "10K",
        0.0005,
        "Microsoft.Storage",
        "storageAccounts",
        MeterKind::TinyOps,
    ),
    (
        "Bandwidth",
        "Rtn Preference: MGN",
        "Standard Data Transfer Out",
        "1 GB",
        0.087,
        "Microsoft.Network",
        "publicIPAddresses",
        MeterKind::Bandwidth,
    ),
    (
        "SQL Database",
        "Single Standard",
        "S2 DTUs",
        "1/Day",
        2.42,
        "Microsoft.Sql",
        "servers",
        MeterKind::Sql,
    ),
    (
        "SQL Database",
        "General Purpose - Compute Gen5",
        "vCore",
        "1 Hour",
        0.2522,
        "Microsoft.Sql",
        "servers",
        MeterKind::Sql,
    ),
    (
        "Azure App Service",
        "Premium v3 Plan",
        "P1 v3 App",
        "1 Hour",
        0.2,
        "Microsoft.Web",
        "serverfarms",
        MeterKind::AppService,
    ),
    (
        "Log Analytics",
        "Analytics Logs",
        "Analytics Logs Data Ingestion",
        "1 GB",
        2.3,
        "Microsoft.OperationalInsights",
        "workspaces",
        MeterKind::Logs,
    ),
    (
        "Azure Cosmos DB",
        "RUs",
        "100 RU/s",
        "1 Hour",
        0.008,
        "Microsoft.DocumentDB",
        "databaseAccounts",
        MeterKind::Cosmos,
    ),
    // Expensive compute: never used by normal customers.
    (
        "Virtual Machines",
        "FSv2 Series",
        "F16s v2",
        "1 Hour",
        0.677,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Vm,
    ),
    (
        "Virtual Machines",
        "Dv5 Series",
        "D16s v5",
        "1 Hour",
        0.768,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Vm,
    ),
    (
        "Virtual Machines",
        "NCv3 Series",
        "NC24s v3",
        "1 Hour",
        12.24,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Gpu,
    ),
    (
        "Virtual Machines",
        "ND A100 v4 Series",
        "ND96asr A100 v4",
        "1 Hour",
        27.197,
        "Microsoft.Compute",
        "virtualMachines",
        MeterKind::Gpu,
    ),
];

/// Catalog indices of the meters normal customers draw from, and of the special ones.
pub const NORMAL_METERS: std::ops::Range<usize> = 0..13;
pub const M_D2: usize = 0;
pub const M_D8: usize = 2;
pub const M_DISK: usize = 4;
pub const M_TINY: usize = 6;
pub const M_BANDWIDTH: usize = 7;
pub const M_F16: usize = 13;
pub const M_D16: usize = 14;
pub const M_NC24: usize = 15;
pub const M_ND96: usize = 16;

pub fn catalog() -> Vec<Meter> {
    CATALOG
        .iter()
        .map(
            |&(category, sub_category, name, unit, price, service, resource_type, kind)| Meter {
                category,
                sub_category,
                name,
                unit,
                price,
                service,
                resource_type,
                kind,
                id: named_guid(&format!("{category}/{sub_category}/{name}")),
            },
        )
        .collect()
}

/// Azure region code and the display name Partner Center writes in MeterRegion.
pub const REGIONS: &[(&str, &str)] = &[
    ("eastus", "US East"),
    ("eastus2", "US East 2"),
    ("westus2", "US West 2"),
    ("centralus", "US Central"),
    ("southcentralus", "US South Central"),
    ("westus3", "US West 3"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("westeurope", "EU West"),
    ("northeurope", "EU North"),
    ("germanywestcentral", "DE West Central"),
    ("francecentral", "FR Central"),
    ("australiaeast", "AU East"),
    ("canadacentral", "CA Central"),
    ("japaneast", "JA East"),
    ("swedencentral", "SE Central"),
    ("brazilsouth", "BR South"),
    ("koreacentral", "KR Central"),
    ("southeastasia", "AP Southeast"),
    ("centralindia", "IN Central"),
    ("southafricanorth", "ZA North"),
];

pub fn region_display(code: &str) -> &'static str {
    REGIONS
        .iter()
        .find(|r| r.0 == code)
        .map(|r| r.1)
        .unwrap_or("Unassigned")
}

/// Country, weight, billing currency, home regions.
pub(super) const COUNTRIES: &[(&str, u32, &str, &[&str])] = &[
    (
        "US",
        38,
        "USD",
        &["eastus", "eastus2", "westus2", "centralus"],
    ),
    ("GB", 12, "GBP", &["uksouth", "ukwest"]),
    ("DE", 10, "EUR", &["germanywestcentral", "westeurope"]),
    ("FR", 8, "EUR", &["francecentral", "westeurope"]),
    ("NL", 6, "EUR", &["westeurope", "northeurope"]),
    ("AU", 6, "USD", &["australiaeast"]),
    ("CA", 6, "USD", &["canadacentral", "eastus"]),
    ("IE", 4, "EUR", &["northeurope"]),
    ("SE", 3, "EUR", &["swedencentral", "northeurope"]),
    ("JP", 3, "USD", &["japaneast"]),
    ("ES", 4, "EUR", &["westeurope"]),
    // Never drawn at random (weight 0): the country of the planted linked ring and of the
    // legitimate customers a partner's high-risk list would name.
    ("NG", 0, "USD", &["southafricanorth"]),
];
/// Index of NG in COUNTRIES.
pub(super) const CI_NG: usize = 11;
