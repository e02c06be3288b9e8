//! hardport: migrate a repository from public container images to hardened ones.
//!
//! The pipeline, one module per stage: [`discovery`] finds Dockerfiles and Helm values files,
//! [`dockerfile`] parses them with byte spans, [`rules`] compare them with the [`catalog`] and
//! return [`diagnostic::Diagnostic`]s with edits, [`fix`] applies the edits, [`migrate`] runs the
//! fix loop per file, [`pipeline`] runs it over many files on all cores and [`diff`] renders the
//! patch, naming each file as [`patch_path`] says (from the root of the [`work_tree`] hardport
//! runs in). [`report`] gathers a run into the model the JSON report is, which [`markdown`] and
//! [`sarif`] render; [`color`] colours the patch for a terminal. [`input`] reads files that may
//! hold anything, and [`atomic_write`] replaces them whole or not at all. The library never
//! prints; the `hardport` binary is a thin command line over it.

pub mod allocator;
pub mod atomic_write;
pub mod catalog;
pub mod color;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod discovery;
pub mod dockerfile;
pub mod facts;
pub mod fix;
pub mod helm;
pub mod image_ref;
pub mod input;
pub mod kubernetes;
pub mod line_index;
pub mod lock;
pub mod markdown;
pub mod migrate;
pub mod oci_config;
pub mod patch_path;
pub mod pipeline;
pub mod registry;
pub mod report;
pub mod rules;
pub mod sarif;
pub mod scope;
pub mod shared_stack;
pub mod shell;
pub mod spec_import;
pub mod stages;
pub mod unix_path;
pub mod work_tree;
pub mod yaml;

#[cfg(test)]
mod test_random;
