//! Which rules run: a set over [`Rule::ALL`], built from `select`/`ignore` lists as ruff builds
//! its own, so a run can leave rules out (`ignore = ["digest-dropped"]`) or run only some.

use std::fmt;

use super::{Rule, UnknownRule};

/// A set of rules. A rule left out neither reports nor fixes anything.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RuleSet(u64);

const _: () = assert!(Rule::ALL.len() <= 64, "a RuleSet holds 64 rules");

impl RuleSet {
    pub const ALL: RuleSet = RuleSet(u64::MAX >> (64 - Rule::ALL.len()));
    pub const EMPTY: RuleSet = RuleSet(0);

    fn bit(rule: Rule) -> u64 {
        let index = Rule::ALL
            .iter()
            .position(|candidate| *candidate == rule)
            .unwrap_or_default();
        1 << index
    }

    pub fn contains(self, rule: Rule) -> bool {
        self.0 & Self::bit(rule) != 0
    }

    pub fn with(self, rule: Rule) -> RuleSet {
        RuleSet(self.0 | Self::bit(rule))
    }

    pub fn without(self, rule: Rule) -> RuleSet {
        RuleSet(self.0 & !Self::bit(rule))
    }

    /// The rules `select` names (every rule when it is `None`, or names `ALL`), less those
    /// `ignore` names.
    pub fn selected(select: Option<&[RuleSelector]>, ignore: &[RuleSelector]) -> RuleSet {
        let chosen = match select {
            None => RuleSet::ALL,
            Some(select) => select
                .iter()
                .fold(RuleSet::EMPTY, |set, selector| set.union(selector.rules())),
        };
        ignore
            .iter()
            .fold(chosen, |set, selector| set.minus(selector.rules()))
    }

    fn union(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 | other.0)
    }

    pub fn minus(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 & !other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL
            .into_iter()
            .filter(move |rule| self.contains(*rule))
    }
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet::ALL
    }
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Rule::code)).finish()
    }
}

/// What a `select` or `ignore` entry names: one rule by its id, or `ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSelector {
    All,
    One(Rule),
}

impl RuleSelector {
    pub fn rules(self) -> RuleSet {
        match self {
            RuleSelector::All => RuleSet::ALL,
            RuleSelector::One(rule) => RuleSet::EMPTY.with(rule),
        }
    }
}

impl std::str::FromStr for RuleSelector {
    type Err = UnknownRule;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        match id {
            "ALL" => Ok(RuleSelector::All),
            id => id.parse().map(RuleSelector::One),
        }
    }
}

impl<'de> serde::Deserialize<'de> for RuleSelector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(set: RuleSet) -> Vec<&'static str> {
        set.iter().map(Rule::code).collect()
    }

    #[test]
    fn select_then_ignore() {
        let one = |id: &str| id.parse::<RuleSelector>().unwrap();
        assert_eq!(RuleSet::selected(None, &[]), RuleSet::ALL);
        assert_eq!(RuleSet::ALL.iter().count(), Rule::ALL.len());
        let some = RuleSet::selected(Some(&[one("base-image"), one("user-root")]), &[]);
        assert_eq!(ids(some), ["base-image", "user-root"]);
        let all_but = RuleSet::selected(Some(&[one("ALL")]), &[one("digest-dropped")]);
        assert!(!all_but.contains(Rule::DigestDropped));
        assert!(all_but.contains(Rule::BaseImage));
        assert_eq!(all_but.iter().count(), Rule::ALL.len() - 1);
        assert!(
            RuleSet::selected(None, &[one("ALL")])
                .iter()
                .next()
                .is_none()
        );
        assert!("no-such-rule".parse::<RuleSelector>().is_err());
    }
}
