//! The one place every risk signal is named: its stable snake_case reason code, its family, and
//! what it means in words. Anomalies, risk scores, dispositions (SPEC 4.5), the report, the
//! README's table and the shipped queries all use these codes.

/// Signal families; each has its own contribution column in risk_scores.
pub const FAMILY_USAGE: &str = "usage";
pub const FAMILY_ACTIVITY: &str = "activity";
pub const FAMILY_PAYMENT: &str = "payment";
pub const FAMILY_FRAUD: &str = "fraud";
pub const FAMILIES: [&str; 4] = [FAMILY_USAGE, FAMILY_ACTIVITY, FAMILY_PAYMENT, FAMILY_FRAUD];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub family: &'static str,
    /// What the signal means, for the README and the report's glossary.
    pub meaning: &'static str,
}

macro_rules! reasons {
    ($($name:ident = $code:literal, $family:ident, $meaning:literal;)*) => {
        $(pub const $name: &str = $code;)*
        pub const ALL: &[Reason] = &[$(Reason { code: $code, family: $family, meaning: $meaning }),*];
    };
}

reasons! {
    USAGE_SPIKE = "usage_spike", FAMILY_USAGE,
        "daily cost of a subscription and meter category far above its robust 28-day weekday-aware baseline";
    NEW_METER = "new_meter", FAMILY_USAGE,
        "an expensive meter category or series the customer never used before";
    GPU_METER = "gpu_meter", FAMILY_USAGE,
        "spend on GPU or high-core VM series (N-series, ND, NC, NV, HB, HC), favoured by crypto miners";
    ROUND_THE_CLOCK = "round_the_clock", FAMILY_USAGE,
        "compute running 24 hours a day, every day, at a steady rate: typical of crypto mining";
    NEW_REGION = "new_region", FAMILY_USAGE,
        "usage in an Azure region the customer never used before";
    PEER_OUTLIER = "peer_outlier", FAMILY_USAGE,
        "a customer with little history spending far above peers of the same size band and country";
    ACTIVITY_BURST = "activity_burst", FAMILY_ACTIVITY,
        "a burst of resource creation far above the customer's usual rate";
    NEW_CALLER = "new_caller", FAMILY_ACTIVITY,
        "write operations by a caller (user or app) never seen before on the customer's subscriptions";
    ROLE_ASSIGNMENT = "role_assignment", FAMILY_ACTIVITY,
        "a privileged role (Owner, Contributor, User Access Administrator) was assigned";
    NEW_IP = "new_ip", FAMILY_ACTIVITY,
        "operations from client IP addresses never seen before";
    FAILED_OPS_BURST = "failed_ops_burst", FAMILY_ACTIVITY,
        "a burst of failed operations (quota probing, denied deployments)";
    MULTI_REGION_DEPLOY = "multi_region_deploy", FAMILY_ACTIVITY,
        "virtual machines or scale sets deployed in many regions within one day";
    SPENDING_LIMIT_RAISED = "spending_limit_raised", FAMILY_ACTIVITY,
        "Partner Center audit: the customer's spending budget or limit was raised";
    NEW_USER = "new_user", FAMILY_ACTIVITY,
        "Partner Center audit: a new user was created in the customer's tenant";
    PASSWORD_RESET = "password_reset", FAMILY_ACTIVITY,
        "Partner Center audit: a customer user's password was reset";
    LINKED_ACCOUNTS = "linked_accounts", FAMILY_ACTIVITY,
        "one actor behind several new customers: they share a caller, a guest account's home domain, the client IP of privileged operations, a domain pattern, or a sign-up day and country with the same first operations (keys an established customer also uses do not count)";
    PREPAID_INSTRUMENT = "prepaid_instrument", FAMILY_PAYMENT,
        "the customer pays with a prepaid card, the instrument of choice for stolen or throwaway funds";
    USAGE_BEFORE_PAYMENT = "usage_before_payment", FAMILY_PAYMENT,
        "consumption well beyond the payments that have cleared";
    FAST_NEW_CUSTOMER = "fast_new_customer", FAMILY_PAYMENT,
        "a customer created recently who is already spending fast";
    UNVERIFIED = "unverified", FAMILY_PAYMENT,
        "the customer's identity has not been verified";
    OVER_CREDIT_LIMIT = "over_credit_limit", FAMILY_PAYMENT,
        "net balance plus unbilled usage above the customer's credit limit";
    LARGE_PURCHASE = "large_purchase", FAMILY_PAYMENT,
        "a large purchase (reservation, savings plan, marketplace; FOCUS ChargeCategory Purchase) by a new, unverified or prepaid-card customer; an established customer's purchase is no signal";
    HIGH_RISK_COUNTRY = "high_risk_country", FAMILY_PAYMENT,
        "the customer's country is on the partner's list of high-risk countries for online fraud (evidence, never enough alone for high)";
    FRAUD_EVENT = "fraud_event", FAMILY_FRAUD,
        "Partner Center raised an Azure fraud notification (crypto mining, usage or deployment anomaly)";
}

/// The reason with this code.
pub fn by_code(code: &str) -> Option<&'static Reason> {
    ALL.iter().find(|r| r.code == code)
}

/// Whether a disposition's reason_code (a code, a family or `*`) covers this signal.
pub fn disposition_matches(disposition_code: &str, signal_code: &str) -> bool {
    let d = disposition_code.trim().to_ascii_lowercase();
    if d == "*" || d == signal_code {
        return true;
    }
    by_code(signal_code).is_some_and(|r| r.family == d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_in_a_family() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL {
            assert!(seen.insert(r.code), "duplicate code {}", r.code);
            assert!(r.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(FAMILIES.contains(&r.family));
        }
        // Every family has at least one signal.
        for f in FAMILIES {
            assert!(ALL.iter().any(|r| r.family == f));
        }
    }

    #[test]
    fn dispositions_match_code_family_or_star() {
        assert!(disposition_matches("usage_spike", USAGE_SPIKE));
        assert!(disposition_matches("usage", USAGE_SPIKE));
        assert!(disposition_matches("*", FRAUD_EVENT));
        assert!(!disposition_matches("payment", USAGE_SPIKE));
        assert!(!disposition_matches("new_meter", USAGE_SPIKE));
    }
}
