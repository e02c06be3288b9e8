//! `user-mapping`, `user-root` and `final-root`: make a migrated stage run as the same user.
//!
//! ## What it does
//! - `user-mapping`: in a stage whose base is being migrated, `USER name[:group]`,
//!   `COPY`/`ADD --chown=name[:group]` and the owners `RUN` commands name (`chown [opts]
//!   name[:group]`, `chgrp group`, `gosu name …`, `su-exec name …`, in shell form, exec form,
//!   `sh -c` scripts and heredoc scripts) naming a user (group) of the public image
//!   (`public.users` / `public.groups` in the catalog) are rewritten to the replacement's
//!   runtime id (`hardened.user` / `hardened.group`). Numeric ids, `root`, variables and names
//!   the Dockerfile creates itself (`useradd`, `adduser`, `groupadd`, `addgroup` in an earlier
//!   `RUN` of the stage chain, or earlier in the same `RUN`) are kept. A group whose replacement
//!   gid the catalog does not state keeps its numeric gid from the public image (the ownership
//!   the public build gave, and a numeric gid needs no `/etc/group` entry), when migrating from
//!   a tag that is not an Alpine variant (the catalog's ids are the Debian variant's). chown's `user.group`
//!   spelling is read; `user:` (the login group) is reported. A command that changes, runs as
//!   or gives files to a public user in a form no bare id replaces (`usermod`, `userdel`,
//!   `groupmod`, `gpasswd`, `su NAME`, `sudo -u NAME`, `runuser -u NAME`, `setpriv --reuid`,
//!   `install -o/-g`) is reported. Stages already on the replacement are checked the same way.
//! - `user-root`: a `RUN` with no `USER` before it ran as the public image's default user.
//!   When that was root and the replacement runs as a non-root user (or one the catalog does
//!   not state), `USER root` is inserted before the stage's first `RUN`, so every `RUN` that
//!   ran as root still does: not only the steps that obviously need root (`apt-get`,
//!   `chown`), but also `corepack enable`, `yarn install` into a root-owned directory,
//!   `mkdir -p $DIR` or `collectstatic`, which no word list recognises. A stage a container is
//!   run from (the final stage, a `--target` leaf, or a stage that sets its own `CMD` or
//!   `ENTRYPOINT` even though others build on it) gets the replacement's runtime user back
//!   once, after its last `RUN`, unless a later `USER` already sets one, or unless its
//!   `ENTRYPOINT`/`CMD` starts with a program that switches users (`gosu`, `su-exec`, …) or
//!   the stage installs `gosu`/`su-exec` for its entrypoint script: those must start as root.
//!   `USER root` goes above the comment lines directly over its `RUN`. A runnable stage that
//!   inherits hardport's `USER root` from its parent stage is switched back after its own last
//!   `RUN`, or right after its `FROM`. For a stage already on the replacement (a file migrated
//!   by hand), only a `RUN` that obviously needs root (package installs, user management,
//!   `chown`, writes to system paths, `pip install`, `npm install -g`, …) gets `USER root`:
//!   the author wrote the others for the replacement's user.
//! - `final-root`: the final stage's last `USER` written by the author is root while the
//!   replacement runs as non-root: a warning, no edit.
//!
//! ## Why
//! The public `node`, `nginx`, `postgres`, … images create named users the hardened images do
//! not have, so `USER node` fails at runtime and `--chown=node` or `chown node` at build time.
//! Hardened images run as non-root by default, so a `RUN` that ran as root fails or writes
//! files with other owners. Guessing which steps need root gets one in ten wrong on real
//! repositories (`corepack enable` then fails as uid 1000); keeping all of them as root keeps
//! the build's meaning, and the runtime user still comes back before the container starts.
//!
//! ## Example
//! With a catalog entry whose replacement runs as `1000:1000` and whose public image has the
//! user and group `node`:
//! ```dockerfile
//! FROM node:20                        FROM reg.mini.dev/node:20-dev
//! RUN corepack enable            →    USER root
//! RUN chown -R node:node /app         RUN corepack enable
//! COPY --chown=node:node . /app       RUN chown -R 1000:1000 /app
//! CMD ["app.js"]                      USER 1000:1000
//!                                     COPY --chown=1000:1000 . /app
//!                                     CMD ["app.js"]
//! ```
//!
//! ## Decisions
//! - `USER root` is only inserted where the `RUN`'s user is the base image's default (no `USER`
//!   in the stage chain before it): an explicit `USER` means the same on both images, so a `RUN`
//!   that failed as `USER node` before is never made to succeed by surprise.
//! - The runtime user comes back after the last `RUN`, not after the last step that needs
//!   root: nothing after the last `RUN` runs a command, and `COPY` ignores `USER`.
//! - What the stage model reports as the user of each `RUN` on the replacement includes these
//!   lines ([`UserCheck::switches`]), so the `workdir` rule sees a `RUN` kept as root and moves nothing
//!   for it.
//! - The decision reads the catalog, not the state of the `FROM` line: for a stage already on
//!   the replacement (a second pass, or a file migrated by hand) the public image's default user
//!   is the entry's `public.user`. Since hardport's own `USER root` precedes the first `RUN`
//!   after the first pass, a second run finds an explicit `USER` and changes nothing.
//! - Which `RUN`s obviously need root (for stages already on the replacement) is decided from
//!   the words of the command as the shared shell reader (`crate::shell`) splits them.
//! - All `user-root` insertions of one pass form one [`Fix`](crate::diagnostic::Fix), carried
//!   by each of its diagnostics, so a parent stage's `USER root` and its child's switch back
//!   are applied together or not at all.
//! - A name created as a user or as a group counts for both parts of `name:group` (user-private
//!   groups are the default of `useradd` and `adduser`). A name that is neither created nor
//!   listed in a known `public.users` (say `nobody`) is a `missing-fact` too: whether the
//!   replacement has it is unknown.
//! - When the replacement's runtime user is unknown, `USER root` is still inserted (the steps
//!   run as root, as they did) and the final stage gets a `missing-fact`, as it now runs as
//!   root.
//!
//! ## Fix safety
//! `user-mapping` edits only the owner's bytes (inside its quotes when quoted, never a value
//! with a line continuation or an escape inside) and only when every part is known;
//! otherwise `missing-fact` says which catalog field to add.
//! `user-root` inserts whole lines in the file's keyword case and line endings; when the
//! replacement's runtime user is unknown it still inserts `USER root` (the `RUN`s keep their
//! meaning) and, for the final stage, says that the image now runs as root.

mod mapping;
mod needs_root;
mod root;

use crate::catalog::{Entry, ImageSpec};
use crate::diagnostic::Diagnostic;
use crate::stages::{StageModel, UserSwitch};

/// What the user rules found, and the `USER` lines `user-root` inserts: the rules that read
/// who runs each `RUN` (`workdir`) take them from here rather than planning them again.
pub struct UserCheck {
    pub diagnostics: Vec<Diagnostic>,
    /// In file order.
    pub switches: Vec<UserSwitch>,
}

pub fn check(model: &StageModel<'_, '_, '_>) -> UserCheck {
    let mut diagnostics = mapping::user_mapping(model);
    let (root, switches) = root::user_root(model);
    diagnostics.extend(root);
    diagnostics.extend(root::final_root(model));
    UserCheck {
        diagnostics,
        switches,
    }
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
