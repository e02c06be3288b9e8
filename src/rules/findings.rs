//! Placeholder while this rule family is written; replaced in the same change set.

use crate::diagnostic::Diagnostic;
use crate::stages::StageModel;

pub fn check(_model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    Vec::new()
}
