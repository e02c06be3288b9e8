//! The stage names declared so far, indexed for the two questions [`super::Resolver`] asks:
//! which stage has this name, and which is the first stage a reference with variables
//! (`FROM ${BASE}-build`) could name.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::dockerfile::ExpansionPattern;

/// Lowercased stage names, each with the first stage that has it.
#[derive(Debug, Clone, Default)]
pub struct StageNames {
    /// How many stages were declared, named or not.
    count: usize,
    by_name: BTreeMap<String, usize>,
    /// The same names written backwards, to find those with a given ending.
    by_reversed: BTreeMap<String, usize>,
}

impl StageNames {
    pub fn push(&mut self, name: Option<&str>) {
        if let Some(name) = name {
            let lowered = name.to_ascii_lowercase();
            let reversed: String = lowered.chars().rev().collect();
            self.by_name.entry(lowered).or_insert(self.count);
            self.by_reversed.entry(reversed).or_insert(self.count);
        }
        self.count += 1;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// The first stage named `name` (case-insensitively).
    pub fn get(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The first stage whose name the lowercased `pattern` could expand to.
    pub fn first_match(&self, pattern: &ExpansionPattern) -> Option<usize> {
        self.candidates(pattern)
            .filter(|(name, _)| pattern.matches(name))
            .map(|(_, index)| index)
            .min()
    }

    /// The names that could match `pattern`, with their first stage: those starting with its
    /// prefix or ending with its suffix, whichever is longer, so that `${BASE}-i` looks only
    /// at the names ending in `-i` and a file of such lines costs time linear in its length.
    /// A pattern with neither (`${A}-${B}`) looks at every name; the stage limit bounds that.
    pub fn candidates<'s>(
        &'s self,
        pattern: &ExpansionPattern,
    ) -> Box<dyn Iterator<Item = (String, usize)> + 's> {
        let (prefix, suffix) = (pattern.prefix(), pattern.suffix());
        if suffix.len() > prefix.len() {
            let reversed: String = suffix.chars().rev().collect();
            return Box::new(
                starting_with(&self.by_reversed, reversed)
                    .map(|(name, index)| (name.chars().rev().collect(), index)),
            );
        }
        Box::new(
            starting_with(&self.by_name, prefix.to_owned())
                .map(|(name, index)| (name.clone(), index)),
        )
    }
}

/// The entries of `map` whose key starts with `prefix`, in key order.
fn starting_with(
    map: &BTreeMap<String, usize>,
    prefix: String,
) -> impl Iterator<Item = (&String, usize)> + '_ {
    map.range::<String, _>((Bound::Included(&prefix), Bound::Unbounded))
        .take_while(move |(name, _)| name.starts_with(prefix.as_str()))
        .map(|(name, &index)| (name, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> StageNames {
        let mut names = StageNames::default();
        for name in list {
            names.push(Some(name));
        }
        names
    }

    #[test]
    fn the_first_matching_stage_is_found_by_prefix_or_suffix() {
        let names = names(&["Build-AMD64", "build-arm64", "test", "build-amd64"]);
        let pattern = |text| ExpansionPattern::new(text).unwrap();
        assert_eq!(names.get("build-amd64"), Some(0));
        assert_eq!(names.first_match(&pattern("build-${arch}")), Some(0));
        assert_eq!(names.first_match(&pattern("${x}-arm64")), Some(1));
        assert_eq!(names.first_match(&pattern("${x}s${y}")), Some(2));
        assert_eq!(names.first_match(&pattern("${x}-i")), None);
    }

    #[test]
    fn a_pattern_with_a_literal_end_looks_only_at_names_with_that_end() {
        let count = 20_000;
        let list: Vec<String> = (0..count).map(|index| format!("s{index}")).collect();
        let names = names(&list.iter().map(String::as_str).collect::<Vec<_>>());
        let looked_at: usize = (0..count)
            .map(|index| {
                let pattern = ExpansionPattern::new(&format!("${{base}}-{index}")).unwrap();
                names.candidates(&pattern).count()
            })
            .sum();
        // Scanning every earlier name, as before, looked at n²/2 = 200 million.
        assert_eq!(looked_at, 0);
        let pattern = ExpansionPattern::new("${base}7").unwrap();
        assert_eq!(names.candidates(&pattern).count(), count / 10);
    }
}
