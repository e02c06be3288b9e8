//! What one stage's check found, turned into diagnostics.

use std::collections::HashSet;
use std::ops::Range;

use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::rules::Rule;

/// What one stage's check found: reports, and changes that share one fix.
#[derive(Default)]
pub(super) struct Findings {
    reports: Vec<(usize, Diagnostic)>,
    fixed: Vec<(usize, Rule, Range<usize>, String)>,
    pub(super) edits: Vec<Edit>,
}

impl Findings {
    /// A finding that changes nothing, with the remedy a person should apply.
    pub(super) fn report(
        &mut self,
        site: usize,
        rule: Rule,
        range: Range<usize>,
        message: String,
        suggestion: String,
    ) {
        self.reports.push((
            site,
            Diagnostic::report(rule, range, message).suggest(suggestion),
        ));
    }

    pub(super) fn fixed(&mut self, site: usize, rule: Rule, range: Range<usize>, message: String) {
        self.fixed.push((site, rule, range, message));
    }

    /// The diagnostics, without those an earlier stage sharing the same instruction already
    /// gave (a parent's HEALTHCHECK inherited by two `--target` stages is reported once).
    pub(super) fn into_diagnostics(self, emitted: &mut HashSet<(usize, Rule)>) -> Vec<Diagnostic> {
        let fresh = |site: &usize, rule: &Rule| !emitted.contains(&(*site, *rule));
        let reports: Vec<(usize, Diagnostic)> = self
            .reports
            .into_iter()
            .filter(|(site, diagnostic)| fresh(site, &diagnostic.rule))
            .collect();
        let fix = Fix::new(self.edits);
        let fixed: Vec<(usize, Rule, Range<usize>, String)> = match &fix {
            Some(_) => self
                .fixed
                .into_iter()
                .filter(|(site, rule, ..)| fresh(site, rule))
                .collect(),
            None => Vec::new(),
        };
        emitted.extend(
            reports
                .iter()
                .map(|(site, diagnostic)| (*site, diagnostic.rule)),
        );
        emitted.extend(fixed.iter().map(|(site, rule, ..)| (*site, *rule)));
        let mut diagnostics: Vec<Diagnostic> = reports
            .into_iter()
            .map(|(_, diagnostic)| diagnostic)
            .collect();
        if let Some(fix) = fix {
            diagnostics.extend(fixed.into_iter().map(|(_, rule, range, message)| {
                Diagnostic::fixed(rule, range, message, fix.clone())
            }));
        }
        diagnostics
    }
}
