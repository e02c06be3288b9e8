//! `user-mapping`, `user-root` and `final-root`: make a migrated stage run as the same user.
//!
//! ## What it does
//! - `user-mapping`: in a stage whose base is being migrated, `USER name[:group]` and
//!   `COPY`/`ADD --chown=name[:group]` naming a user (group) of the public image
//!   (`public.users` / `public.groups` in the catalog) are rewritten to the replacement's
//!   runtime id (`hardened.user` / `hardened.group`). Numeric ids, `root`, variables and names
//!   the Dockerfile creates itself (`useradd`, `adduser`, `groupadd`, `addgroup` in an earlier
//!   `RUN` of the stage chain) are kept.
//! - `user-root`: when a `RUN` needs root (package installs, user management, `chown`, writes
//!   to `/usr`, `/etc`, `/var` or any other absolute path outside `/tmp` and the replacement's
//!   working directory, `pip install`, `npm install -g`, `gem install`, …), ran as root on the
//!   public image, and would run as a non-root user on the replacement, `USER root` is inserted
//!   before the first such `RUN` of the stage. A stage a container is run from (the final stage,
//!   or a `--target` leaf) is then switched back to the replacement's runtime user after its
//!   last `RUN` that needs root, unless a later `USER` already sets a user; a runnable stage that
//!   inherits hardport's `USER root` from its parent stage is switched back after its own last
//!   such `RUN`, or right after its `FROM`.
//! - `final-root`: the final stage's last `USER` written by the author is root while the
//!   replacement runs as non-root: a warning, no edit.
//!
//! ## Why
//! The public `node`, `nginx`, `postgres`, … images create named users the hardened images do
//! not have, so `USER node` fails at runtime and `--chown=node` at build time. Hardened images
//! run as non-root by default, so `RUN apt-get install` that ran as root fails.
//!
//! ## Example
//! With a catalog entry whose replacement runs as `1000:1000` and whose public image has the
//! user and group `node`:
//! ```dockerfile
//! FROM node:20                        FROM reg.mini.dev/node:20-dev
//! RUN apt-get install -y curl    →    USER root
//! COPY --chown=node:node . /app       RUN apt-get install -y curl
//! CMD ["app.js"]                      USER 1000:1000
//!                                     COPY --chown=1000:1000 . /app
//!                                     CMD ["app.js"]
//! ```
//!
//! ## Decisions
//! - Which `RUN`s need root is decided from the words of the command (shell form, exec form,
//!   `sh -c` scripts and heredoc scripts). The detector errs towards "needs root": a false
//!   positive only keeps a `RUN` running as root, as it did on the public image.
//! - `USER root` is only inserted where the `RUN`'s user is the base image's default (no `USER`
//!   in the stage chain before it): an explicit `USER` means the same on both images, so a `RUN`
//!   that failed as `USER node` before is never made to succeed by surprise.
//! - The decision reads the catalog, not the state of the `FROM` line: for a stage already on
//!   the replacement (a second pass, or a file migrated by hand) the public image's default user
//!   is the entry's `public.user`. Since hardport's own `USER root` precedes the `RUN` after the
//!   first pass, a second run finds an explicit `USER` and changes nothing.
//! - All `user-root` insertions of one pass form one [`Fix`], carried by each of its
//!   diagnostics, so a parent stage's `USER root` and its child's switch back are applied
//!   together or not at all.
//! - A name created as a user or as a group counts for both parts of `name:group` (user-private
//!   groups are the default of `useradd` and `adduser`). A name that is neither created nor
//!   listed in a known `public.users` (say `nobody`) is a `missing-fact` too: whether the
//!   replacement has it is unknown.
//! - When the replacement's runtime user is unknown, `USER root` is still inserted (the step
//!   runs as root, as it did) and the final stage gets a `missing-fact`, as it now runs as root.
//!
//! ## Fix safety
//! `user-mapping` edits only the user token (never a token with a line continuation inside) and
//! only when every part is known; otherwise `missing-fact` says which catalog field to add.
//! `user-root` inserts whole lines in the file's keyword case and line endings; when the
//! replacement's runtime user is unknown it still inserts `USER root` (the `RUN` keeps its
//! meaning) and, for the final stage, says that the image now runs as root.

mod mapping;
mod needs_root;
mod root;

pub(crate) use root::switches;

use crate::catalog::{Entry, ImageSpec};
use crate::diagnostic::Diagnostic;
use crate::stages::StageModel;

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = mapping::user_mapping(model);
    diagnostics.extend(root::user_root(model));
    diagnostics.extend(root::final_root(model));
    diagnostics
}

/// The replacement's runtime uid and gid, as the catalog states them (`user: "1000:1000"` is
/// read as both).
pub(super) fn hardened_ids(entry: &Entry) -> (Option<String>, Option<String>) {
    let user = entry.hardened.user.as_ref().map(|id| id.0.as_str());
    let group = entry.hardened.group.as_ref().map(|id| id.0.clone());
    match user.and_then(|user| user.split_once(':')) {
        Some((uid, gid)) => (Some(uid.to_owned()), group.or_else(|| Some(gid.to_owned()))),
        None => (user.map(str::to_owned), group),
    }
}

/// The effective user a spec gives, formatted as the stage model does (`user[:group]`).
pub(super) fn spec_user(spec: &ImageSpec) -> Option<String> {
    spec.user.as_ref().map(|user| match &spec.group {
        Some(group) if !user.0.contains(':') => format!("{}:{}", user.0, group.0),
        _ => user.0.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Stage chains
/// The stage and its ancestors along `FROM <stage>`, nearest first.
pub(super) fn chain(model: &StageModel<'_, '_, '_>, index: usize) -> Vec<usize> {
    let mut stages = vec![index];
    let mut current = index;
    while let Some(crate::stages::Base::Stage(parent)) =
        model.stages.get(current).map(|stage| &stage.base)
    {
        if *parent >= current {
            break;
        }
        current = *parent;
        stages.push(current);
    }
    stages
}

#[cfg(test)]
mod tests;
