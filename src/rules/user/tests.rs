use parse_dockerfile::Instruction;

use super::*;
use crate::diagnostic::{Diagnostic, Fix};
use crate::discovery::FileKind;
use crate::migrate::{Finding, migrate_text};
use crate::rules::Context;
use crate::rules::Rule;
use crate::rules::test_support::{run, test_catalog};
use crate::stages::StageModel;

/// Migrate `text`, then migrate the result again: the second run must change nothing and apply
/// no fix. Returns the first result and its messages.
fn run_twice(text: &str) -> (String, Vec<String>) {
    let (fixed, messages) = run(text);
    let catalog = test_catalog();
    let again =
        migrate_text(FileKind::Dockerfile, &fixed, Context::new(&catalog)).expect("migrates");
    assert_eq!(again.text, fixed, "second run changed the text");
    let fixes: Vec<String> = again
        .findings
        .iter()
        .filter(|finding| finding.fixed)
        .map(|finding| format!("{}: {}", finding.rule, finding.text()))
        .collect();
    assert!(fixes.is_empty(), "second run applied fixes: {fixes:?}");
    (fixed, messages)
}

/// This module's diagnostics for `text` in one pass, without the fix loop.
fn diagnostics(text: &str) -> Vec<Diagnostic> {
    let catalog = test_catalog();
    let file = crate::dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    check(&model).diagnostics
}

fn with_rule<'m>(messages: &'m [String], rule: &str) -> Vec<&'m str> {
    let prefix = format!("{rule}: ");
    messages
        .iter()
        .filter(|message| message.starts_with(&prefix))
        .map(String::as_str)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// user-mapping

#[test]
fn a_public_user_becomes_the_runtime_uid() {
    let (fixed, messages) =
        run_twice("FROM node:20\nCOPY app.js /app/\nUSER node\nCMD [\"app.js\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nCOPY app.js /app/\nUSER 1000\nCMD [\"app.js\"]\n"
    );
    assert_eq!(
        with_rule(&messages, "user-mapping"),
        [
            "user-mapping: `USER node` → `USER 1000`: the replacement reg.example.dev/node has no user `node` (now its runtime id 1000)"
        ]
    );
}

#[test]
fn chown_users_and_groups_become_runtime_ids() {
    let (fixed, messages) = run_twice(
        "FROM node:20\nCOPY --chown=node:node . /app\nADD --chown=\"node\" x.tgz /opt/\nCOPY --chown=1000:node a /b\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nCOPY --chown=1000:1000 . /app\nADD --chown=\"1000\" x.tgz /opt/\nCOPY --chown=1000:1000 a /b\n"
    );
    assert_eq!(
        with_rule(&messages, "user-mapping").len(),
        3,
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("has no user `node` (now its runtime id 1000) or group `node`")),
        "{messages:?}"
    );
}

#[test]
fn numeric_ids_root_and_variables_are_kept() {
    let text = "FROM node:20\nUSER 1000:1000\nCOPY --chown=root:root a /b\nUSER $APP_USER\nUSER root\nUSER node\n";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nUSER 1000:1000\nCOPY --chown=root:root a /b\nUSER $APP_USER\nUSER root\nUSER 1000\n"
    );
    assert_eq!(
        with_rule(&messages, "user-mapping").len(),
        1,
        "{messages:?}"
    );
    assert!(
        with_rule(&messages, "missing-fact").is_empty(),
        "{messages:?}"
    );
}

#[test]
fn users_the_dockerfile_creates_are_kept() {
    let text = "\
FROM node:20 AS base
RUN groupadd -g 1001 app && useradd -u 1001 -g app -m -s /bin/sh app
FROM base
COPY --chown=app:app . /home/app
USER app
";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/node:20-dev AS base
USER root
RUN groupadd -g 1001 app && useradd -u 1001 -g app -m -s /bin/sh app
FROM base
COPY --chown=app:app . /home/app
USER app
"
    );
    assert!(
        with_rule(&messages, "user-mapping").is_empty(),
        "{messages:?}"
    );
    assert!(
        with_rule(&messages, "missing-fact").is_empty(),
        "{messages:?}"
    );
}

#[test]
fn a_name_is_only_kept_after_the_run_that_creates_it() {
    // `-g node` names an existing group; `node` is not created here.
    let (fixed, _) =
        run("FROM node:20\nUSER node\nUSER root\nRUN useradd -g node -m web\nUSER web\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER 1000\nUSER root\nRUN useradd -g node -m web\nUSER web\n"
    );
}

#[test]
fn an_unknown_hardened_group_keeps_the_public_gid() {
    // nginx's replacement has no stated group: the group keeps the id it had on the public
    // image (101), which gives the same ownership without guessing the replacement's group.
    let (fixed, messages) =
        run_twice("FROM nginx:1.27\nUSER nginx:nginx\nRUN chown nginx.nginx /srv\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/nginx:1.27\nUSER 1000:101\nRUN chown 1000.101 /srv\n"
    );
    assert_eq!(
        with_rule(&messages, "user-mapping")[0],
        "user-mapping: `USER nginx:nginx` → `USER 1000:101`: the replacement reg.example.dev/nginx has no user `nginx` (now its runtime id 1000) or group `nginx` (now 101, its id on the public image, which keeps the ownership the public build gave)"
    );
    assert!(
        !with_rule(&messages, "missing-fact")
            .iter()
            .any(|message| message.contains("group")),
        "{messages:?}"
    );
}

#[test]
fn the_public_gid_is_kept_only_where_the_catalog_ids_apply() {
    // The catalog's public ids are the Debian variant's; an Alpine variant, or a file already
    // on the replacement, gives no public gid to keep: a missing fact, no edit.
    for text in [
        "FROM nginx:1.27-alpine\nUSER nginx:nginx\n",
        "FROM reg.example.dev/nginx:1.27\nUSER nginx:nginx\n",
    ] {
        let (fixed, messages) = run_twice(text);
        assert!(fixed.ends_with("USER nginx:nginx\n"), "{fixed}");
        assert!(
            with_rule(&messages, "missing-fact")
                .iter()
                .any(|message| message.contains("`hardened.group`")),
            "{messages:?}"
        );
    }
}

#[test]
fn an_owner_with_its_login_group_is_reported() {
    let (fixed, messages) = run_twice("FROM node:20\nRUN chown -R node: /app\n");
    assert!(fixed.contains("chown -R node: /app"), "{fixed}");
    assert_eq!(
        with_rule(&messages, "user-mapping"),
        [
            "user-mapping: `chown -R node:` names `node` and its login group, which the replacement reg.example.dev/node does not have, and hardport does not know that group's id: write the owner as `uid:gid` with numeric ids"
        ]
    );
}

#[test]
fn commands_that_run_as_a_public_user_are_reported() {
    for command in [
        "su node -c 'npm ci'",
        "su -s /bin/sh node",
        "sudo -u node npm ci",
        "runuser --user=node -- npm ci",
        "setpriv --reuid=node npm ci",
        "install -o node -g node -d /data",
    ] {
        let (fixed, messages) = run_twice(&format!("FROM node:20\nRUN {command}\n"));
        assert!(fixed.contains(command), "{fixed}");
        let reports = with_rule(&messages, "user-mapping");
        assert!(!reports.is_empty(), "{command}: {messages:?}");
        assert!(
            reports[0].contains("names `node`"),
            "{command}: {reports:?}"
        );
    }
    // Options and other names are no users; gosu --version names none; `install` as an
    // argument (`npm install -g node`) is no install command.
    let (_, messages) = run_twice(
        "FROM node:20\nRUN gosu --version && sudo -u www apt-get install -o X=1 x && npm install -g node\n",
    );
    assert!(
        with_rule(&messages, "user-mapping").is_empty(),
        "{messages:?}"
    );
    assert!(
        with_rule(&messages, "missing-fact").is_empty(),
        "{messages:?}"
    );
}

#[test]
fn lint_mode_maps_public_names_in_a_file_already_on_the_replacement() {
    let (fixed, _) = run_twice("FROM reg.example.dev/node:20\nUSER node\n");
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nUSER 1000\n");
}

#[test]
fn a_known_hardened_user_without_group_maps_a_bare_user() {
    let (fixed, _) = run_twice("FROM nginx:1.27\nUSER nginx\n");
    assert_eq!(fixed, "FROM reg.example.dev/nginx:1.27\nUSER 1000\n");
}

#[test]
fn unknown_public_users_are_a_missing_fact_naming_the_field() {
    let (fixed, messages) = run_twice("FROM eclipse-temurin:21\nUSER app\n");
    assert_eq!(fixed, "FROM reg.example.dev/openjdk:21\nUSER app\n");
    let missing = with_rule(&messages, "missing-fact");
    assert_eq!(missing.len(), 1, "{messages:?}");
    assert!(missing[0].contains("`app`"), "{}", missing[0]);
    assert!(missing[0].contains("`openjdk`"), "{}", missing[0]);
    assert!(missing[0].contains("`public.users`"), "{}", missing[0]);
}

#[test]
fn a_name_the_public_image_does_not_list_is_reported() {
    let (fixed, messages) = run("FROM node:20\nUSER www-data\n");
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nUSER www-data\n");
    let missing = with_rule(&messages, "missing-fact");
    assert_eq!(missing.len(), 1, "{messages:?}");
    assert!(missing[0].contains("`www-data`"), "{}", missing[0]);
}

#[test]
fn mapping_reaches_child_stages_and_leaves_other_images_alone() {
    let text = "FROM postgres:16 AS db\nFROM db\nUSER postgres\nFROM debian:12\nUSER postgres\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/postgres:16 AS db\nFROM db\nUSER 70\nFROM debian:12\nUSER postgres\n"
    );
}

#[test]
fn a_value_with_a_line_continuation_is_reported_not_edited() {
    let text = "FROM node:20\nCOPY --chown=no\\\nde . /app\n";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nCOPY --chown=no\\\nde . /app\n"
    );
    let mapping = with_rule(&messages, "user-mapping");
    assert_eq!(mapping.len(), 1, "{messages:?}");
    assert!(mapping[0].contains("yourself"), "{}", mapping[0]);
}

#[test]
fn owners_named_in_run_commands_are_mapped_with_the_rest() {
    let text = "FROM node:20\nRUN chown -R node:node /app && chgrp node /data\nRUN gosu node npm ci\nRUN sh -c 'chown node /x'\nRUN chown 'node:node' /y\nUSER node\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN chown -R 1000:1000 /app && chgrp 1000 /data\nRUN gosu 1000 npm ci\nRUN sh -c 'chown 1000 /x'\nRUN chown '1000:1000' /y\nUSER 1000\n"
    );
    assert_eq!(
        with_rule(&messages, "user-mapping")[0],
        "user-mapping: `chown -R node:node` → `chown -R 1000:1000`: the replacement reg.example.dev/node has no user `node` (now its runtime id 1000) or group `node` (now its runtime id 1000)"
    );
}

#[test]
fn run_owners_the_dockerfile_creates_or_cannot_resolve_are_kept() {
    let text = "FROM node:20\nRUN useradd -m app && chown app:app /app\nRUN chown $APP_USER /x && chown 1000 /y && chown --reference=/a /b\n";
    let (fixed, messages) = run_twice(text);
    assert!(fixed.contains("chown app:app /app"), "{fixed}");
    assert!(
        fixed.contains("chown $APP_USER /x && chown 1000 /y"),
        "{fixed}"
    );
    assert!(
        with_rule(&messages, "user-mapping").is_empty(),
        "{messages:?}"
    );
    // A name neither created nor listed is a missing fact, as for USER.
    let (fixed, messages) = run_twice("FROM node:20\nRUN su-exec www-data true\n");
    assert!(fixed.contains("su-exec www-data true"), "{fixed}");
    assert_eq!(
        with_rule(&messages, "missing-fact").len(),
        1,
        "{messages:?}"
    );
}

#[test]
fn commands_that_change_a_public_user_are_reported() {
    let (fixed, messages) = run_twice("FROM node:20\nRUN usermod -aG audio node\n");
    assert!(fixed.contains("usermod -aG audio node"), "{fixed}");
    assert_eq!(
        with_rule(&messages, "user-mapping"),
        [
            "user-mapping: `usermod -aG audio node` names `node`, a user of the public image that the replacement reg.example.dev/node does not have: it fails there: create the user this step expects first (`useradd`), or do without it: the replacement runs as 1000"
        ]
    );
    // A user the Dockerfile created first is its own.
    let (_, messages) = run_twice("FROM node:20\nRUN useradd node2 && usermod -aG audio node2\n");
    assert!(
        with_rule(&messages, "user-mapping").is_empty(),
        "{messages:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// user-root

#[test]
fn a_package_install_gets_user_root_and_the_final_stage_switches_back() {
    let text = "FROM node:20\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD [\"app.js\"]\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN apt-get update && apt-get install -y curl\nUSER 1000:1000\nCOPY . /app\nCMD [\"app.js\"]\n"
    );
    assert_eq!(
        with_rule(&messages, "user-root"),
        [
            "user-root: stage #0: its RUN steps ran as root on the public image (no USER before them), but the replacement runs as 1000:1000: inserted `USER root` before the first one and `USER 1000:1000` after the stage's last RUN, so the container still runs as the replacement's user"
        ]
    );
}

#[test]
fn every_run_that_ran_as_root_keeps_running_as_root_and_the_user_comes_back_after_the_last() {
    // Not only the steps hardport recognises as needing root: `corepack enable` writes to
    // /usr/local/bin, `npm ci` into a root-owned directory. All of them ran as root.
    let text = "FROM node:20\nRUN corepack enable\nRUN apk add git\nRUN yarn install\nRUN npm test\nCOPY . .\nCMD [\"app.js\"]\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN corepack enable\nRUN apk add git\nRUN yarn install\nRUN npm test\nUSER 1000:1000\nCOPY . .\nCMD [\"app.js\"]\n"
    );
    assert_eq!(run_users(text), run_users(&fixed));
}

/// Who runs each RUN of `text`: on the public image before the migration, on the replacement
/// after it (the users the stage model computes, with the Dockerfile's own `USER` lines).
fn run_users(text: &str) -> Vec<Option<String>> {
    let catalog = test_catalog();
    let file = crate::dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let points = model.run_points();
    let migrated = file.instructions().first().is_some_and(
        |from| matches!(from, Instruction::From(from) if from.image.value.starts_with("reg.")),
    );
    let view = match migrated {
        true => crate::stages::View::Hardened,
        false => crate::stages::View::Public,
    };
    model
        .users_at(view, &points)
        .into_iter()
        .map(|user| {
            user.map(|user| {
                if crate::stages::is_root_user(&user) {
                    "root".to_owned()
                } else {
                    user
                }
            })
        })
        .collect()
}

#[test]
fn no_insertion_when_user_root_already_precedes() {
    let text = "FROM node:20\nUSER root\nRUN apt-get install -y curl\nUSER node\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN apt-get install -y curl\nUSER 1000\n"
    );
    assert!(with_rule(&messages, "user-root").is_empty(), "{messages:?}");
    assert!(
        with_rule(&messages, "final-root").is_empty(),
        "{messages:?}"
    );
}

#[test]
fn a_later_user_instruction_makes_the_switch_back_unnecessary() {
    let text = "FROM node:20\nRUN apt-get install -y curl\nUSER node\nCMD [\"app.js\"]\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN apt-get install -y curl\nUSER 1000\nCMD [\"app.js\"]\n"
    );
}

#[test]
fn a_run_that_ran_as_a_non_root_user_is_left_failing() {
    let text = "FROM node:20\nUSER node\nRUN npm install -g pm2\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER 1000\nRUN npm install -g pm2\n"
    );
    assert!(with_rule(&messages, "user-root").is_empty(), "{messages:?}");
}

#[test]
fn lowercase_keywords_are_kept() {
    let text = "from node:20\nrun apt-get install -y curl\ncmd [\"app.js\"]\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "from reg.example.dev/node:20-dev\nuser root\nrun apt-get install -y curl\nuser 1000:1000\ncmd [\"app.js\"]\n"
    );
}

#[test]
fn crlf_line_endings_and_a_missing_final_newline_are_kept() {
    let text = "FROM node:20\r\nUSER node\r\nCOPY --chown=node:node . /app\r\nUSER root\r\nRUN apk add curl";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\r\nUSER 1000\r\nCOPY --chown=1000:1000 . /app\r\nUSER root\r\nRUN apk add curl"
    );
    let text = "FROM node:20\r\n  RUN apk add curl";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\r\n  USER root\r\n  RUN apk add curl\r\nUSER 1000:1000"
    );
}

#[test]
fn heredoc_scripts_are_read_and_the_user_comes_back_after_the_terminator() {
    let text = "FROM node:20\nRUN <<EOF\nset -e\napt-get update\nEOF\nCMD [\"app.js\"]\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        // A blank line after the terminator: hadolint rejects an instruction right after one.
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN <<EOF\nset -e\napt-get update\nEOF\n\nUSER 1000:1000\nCMD [\"app.js\"]\n"
    );
}

#[test]
fn a_build_stage_keeps_root_and_the_runtime_stage_is_untouched() {
    let text = "\
FROM node:20 AS build
RUN apt-get update && apt-get install -y python3 make g++
RUN npm ci && npm run build
FROM node:20
COPY --from=build --chown=node:node /app/dist /app
USER node
CMD [\"/app/server.js\"]
";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/node:20-dev AS build
USER root
RUN apt-get update && apt-get install -y python3 make g++
RUN npm ci && npm run build
FROM reg.example.dev/node:20
COPY --from=build --chown=1000:1000 /app/dist /app
USER 1000
CMD [\"/app/server.js\"]
"
    );
}

#[test]
fn a_child_stage_inherits_root_and_switches_back_in_one_fix() {
    let text = "FROM node:20 AS base\nRUN apk add tini\nFROM base\nCOPY . /app\nCMD [\"app.js\"]\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev AS base\nUSER root\nRUN apk add tini\nFROM base\nUSER 1000:1000\nCOPY . /app\nCMD [\"app.js\"]\n"
    );
    assert_eq!(with_rule(&messages, "user-root").len(), 2, "{messages:?}");
    let fixes: Vec<Fix> = diagnostics(text)
        .into_iter()
        .filter(|diagnostic| diagnostic.rule == Rule::UserRoot)
        .filter_map(|diagnostic| diagnostic.fix)
        .collect();
    assert_eq!(fixes.len(), 2);
    assert_eq!(fixes[0], fixes[1], "one fix for the whole file");
    assert_eq!(fixes[0].edits().len(), 2);
}

#[test]
fn one_fix_shared_by_several_findings_is_one_change() {
    // The parent's `USER root` and the child's restore are one fix, carried by two findings:
    // the report records it once, so its changes applied in order give the patched file.
    let catalog = test_catalog();
    let text = "FROM node:20 AS base\nRUN apk add tini\nFROM base\nCOPY . /app\n";
    let migration =
        migrate_text(FileKind::Dockerfile, text, Context::new(&catalog)).expect("migrates");
    let user_root: Vec<&Finding> = migration
        .findings
        .iter()
        .filter(|finding| finding.rule == Rule::UserRoot)
        .collect();
    assert_eq!(user_root.len(), 2);
    assert!(user_root.iter().all(|finding| finding.fixed));
    let changes = user_root
        .iter()
        .filter(|finding| finding.change.is_some())
        .count();
    assert_eq!(changes, 1, "{user_root:?}");
}

#[test]
fn a_child_that_needs_root_itself_does_not_repeat_user_root() {
    let text = "FROM node:20 AS base\nRUN apk add tini\nFROM base\nRUN apk add curl\nRUN npm ci\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev AS base\nUSER root\nRUN apk add tini\nFROM base\nRUN apk add curl\nRUN npm ci\nUSER 1000:1000\n"
    );
    assert_eq!(run_users(text), run_users(&fixed));
}

#[test]
fn a_runnable_test_stage_switches_back_too() {
    let text = "FROM node:20 AS test\nRUN apk add chromium\nFROM node:20\nCMD [\"app.js\"]\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev AS test\nUSER root\nRUN apk add chromium\nUSER 1000:1000\nFROM reg.example.dev/node:20\nCMD [\"app.js\"]\n"
    );
}

#[test]
fn a_root_replacement_needs_nothing() {
    let text = "FROM golang:1.22\nRUN apt-get install -y git\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/go:1.22-dev\nRUN apt-get install -y git\n"
    );
    assert!(with_rule(&messages, "user-root").is_empty(), "{messages:?}");
}

#[test]
fn an_unknown_runtime_user_still_gets_user_root_and_a_missing_fact() {
    let text = "FROM python:3.12\nRUN apt-get install -y libpq5\nCMD [\"python3\", \"app.py\"]\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12-dev\nUSER root\nRUN apt-get install -y libpq5\nENTRYPOINT []\nCMD [\"python3\", \"app.py\"]\n"
    );
    // The other missing fact is the replacement's entrypoint (the `entrypoint` rule's).
    let missing: Vec<&str> = with_rule(&messages, "missing-fact")
        .into_iter()
        .filter(|message| !message.contains("`hardened.entrypoint`"))
        .collect();
    assert_eq!(missing.len(), 1, "{messages:?}");
    assert!(missing[0].contains("runs as root"), "{}", missing[0]);
    assert!(missing[0].contains("`hardened.user`"), "{}", missing[0]);
    assert!(
        with_rule(&messages, "user-root")[0]
            .contains("does not say which user the replacement runs as"),
        "{messages:?}"
    );
}

#[test]
fn an_unknown_runtime_user_in_a_build_stage_is_no_missing_fact() {
    let text = "FROM python:3.12 AS build\nRUN pip install -r requirements.txt\nFROM scratch\nCOPY --from=build /x /x\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12-dev AS build\nUSER root\nRUN pip install -r requirements.txt\nFROM scratch\nCOPY --from=build /x /x\n"
    );
    assert!(
        with_rule(&messages, "missing-fact").is_empty(),
        "{messages:?}"
    );
}

#[test]
fn a_hand_migrated_stage_is_treated_like_the_public_one() {
    // The catalog says public node ran as root: a RUN on the replacement's default user that
    // needs root gets the same lines a migration would have added.
    let text = "FROM reg.example.dev/node:20-dev\nRUN apk add curl\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN apk add curl\nUSER 1000:1000\n"
    );
    // An explicit user means the same on both images: left as written.
    let text = "FROM reg.example.dev/node:20-dev\nUSER 1000\nRUN apk add curl\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(fixed, text);
}

#[test]
fn a_stage_with_its_own_command_that_others_build_on_runs_as_the_runtime_user() {
    // `--target release` is the published image; `nightly` builds on it and ran its RUN as
    // root on the public image, so it gets its own `USER root` and switch back.
    let text = "FROM node:20 AS release\nRUN npm ci\nCMD [\"server.js\"]\nFROM release AS nightly\nRUN npm run nightly\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev AS release\nUSER root\nRUN npm ci\nUSER 1000:1000\nCMD [\"server.js\"]\nFROM release AS nightly\nUSER root\nRUN npm run nightly\nUSER 1000:1000\n"
    );
    assert_eq!(run_users(text), run_users(&fixed));
}

#[test]
fn a_container_that_starts_with_gosu_keeps_running_as_root() {
    let text =
        "FROM node:20\nRUN npm ci\nENTRYPOINT [\"gosu\", \"node\", \"node\", \"server.js\"]\n";
    let (fixed, messages) = run_twice(text);
    assert!(
        fixed.contains("USER root\nRUN npm ci\nENTRYPOINT"),
        "{fixed}"
    );
    assert!(!fixed.contains("USER 1000"), "{fixed}");
    assert!(
        with_rule(&messages, "user-root")[0].ends_with("the container switches users with `gosu`, which must start as root, so it keeps running as root"),
        "{messages:?}"
    );
    let shell_form = "FROM node:20\nRUN npm ci\nCMD exec su-exec node node server.js\n";
    let (fixed, _) = run_twice(shell_form);
    assert!(!fixed.contains("USER 1000"), "{fixed}");
    // An entrypoint script hardport cannot read, in a stage that installs gosu for it.
    let script = "FROM node:20\nRUN apt-get install -y gosu\nCOPY entrypoint.sh /\nENTRYPOINT [\"/entrypoint.sh\"]\n";
    let (fixed, _) = run_twice(script);
    assert!(!fixed.contains("USER 1000"), "{fixed}");
    let copied =
        "FROM node:20\nCOPY --from=tianon/gosu /gosu /usr/local/bin/\nRUN npm ci\nCMD [\"x.js\"]\n";
    let (fixed, _) = run_twice(copied);
    assert!(!fixed.contains("USER 1000"), "{fixed}");
}

#[test]
fn a_user_switch_through_sh_c_keeps_the_container_root_and_no_final_root_warning_follows() {
    for cmd in [
        "CMD [\"sh\", \"-c\", \"exec gosu app server\"]",
        "CMD sh -c 'gosu app server'",
    ] {
        let text = format!("FROM node:20\nRUN useradd app && npm ci\n{cmd}\n");
        let (fixed, messages) = run_twice(&text);
        assert!(!fixed.contains("USER 1000"), "{fixed}");
        // A run over the migrated file says nothing about the `USER root` it needs.
        let (_, again) = run_twice(&fixed);
        assert!(with_rule(&again, "final-root").is_empty(), "{again:?}");
        assert!(
            with_rule(&messages, "final-root").is_empty(),
            "{messages:?}"
        );
    }
}

#[test]
fn a_user_switch_in_an_exec_form_entrypoint_is_mapped() {
    let text =
        "FROM node:20\nRUN npm ci\nENTRYPOINT [\"su-exec\", \"node:node\", \"node\", \"x.js\"]\n";
    let (fixed, _) = run_twice(text);
    assert!(
        fixed.contains("[\"su-exec\", \"1000:1000\", \"node\", \"x.js\"]"),
        "{fixed}"
    );
}

#[test]
fn a_final_stage_without_a_command_says_what_its_users_inherit() {
    let (_, messages) = run_twice("FROM node:20\nRUN npm ci\n");
    assert!(
        with_rule(&messages, "user-root")[0].contains("the stage sets no CMD or ENTRYPOINT: if other images are built FROM it, their RUN steps now run as 1000:1000 too"),
        "{messages:?}"
    );
}

#[test]
fn user_root_goes_above_the_comments_of_its_run() {
    // A `# hadolint ignore=` line applies to the next instruction: it must stay on the RUN.
    let text = "FROM node:20\n\n# hadolint ignore=DL3008\n# tools\nRUN apt-get install -y curl\n";
    let (fixed, _) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\n\nUSER root\n# hadolint ignore=DL3008\n# tools\nRUN apt-get install -y curl\nUSER 1000:1000\n"
    );
}

#[test]
fn a_build_in_a_root_owned_workdir_keeps_root_instead_of_moving_the_directory() {
    let text = "FROM node:20\nWORKDIR /home/node/app\nRUN npm ci && npm run build\nRUN echo hi > /dev/null 2>&1\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        // The RUNs keep running as root, so the workdir rule sees no user who cannot write.
        "FROM reg.example.dev/node:20-dev\nWORKDIR /home/node/app\nUSER root\nRUN npm ci && npm run build\nRUN echo hi > /dev/null 2>&1\nUSER 1000:1000\n"
    );
    assert!(with_rule(&messages, "workdir").is_empty(), "{messages:?}");
    assert!(
        with_rule(&messages, "missing-fact").is_empty(),
        "{messages:?}"
    );
    assert_eq!(run_users(text), run_users(&fixed));
}

// ---------------------------------------------------------------------------------------------
// final-root

#[test]
fn a_final_stage_the_author_left_as_root_is_a_warning() {
    let text = "FROM node:20\nUSER root\nCOPY . /app\nCMD [\"app.js\"]\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nUSER root\nCOPY . /app\nCMD [\"app.js\"]\n"
    );
    assert_eq!(
        with_rule(&messages, "final-root"),
        [
            "final-root: the final stage runs as root (`USER root`), but the replacement reg.example.dev/node runs as 1000:1000: hardened images are meant to run as non-root: if root is only needed for some build steps, add `USER 1000:1000` after them"
        ]
    );
}

#[test]
fn final_root_follows_the_stage_chain_and_ignores_root_replacements() {
    let (_, messages) = run("FROM node:20 AS base\nUSER 0:0\nFROM base\nCOPY . /app\n");
    assert_eq!(with_rule(&messages, "final-root").len(), 1, "{messages:?}");
    let (_, messages) = run("FROM golang:1.22\nUSER root\n");
    assert!(
        with_rule(&messages, "final-root").is_empty(),
        "{messages:?}"
    );
    let (_, messages) = run("FROM node:20\nUSER root\nUSER node\n");
    assert!(
        with_rule(&messages, "final-root").is_empty(),
        "{messages:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reading commands

fn reason(command: &str) -> Option<String> {
    let text = format!("FROM a\nRUN {command}\n");
    let file = crate::dockerfile::parse(&text).expect("parses");
    let catalog = test_catalog();
    let model = StageModel::new(&file, &catalog);
    match file.instructions().get(1) {
        Some(Instruction::Run(run)) => needs_root::needs_root(&model, run, &["/home/build"]),
        _ => panic!("expected RUN"),
    }
}

#[test]
fn commands_that_need_root() {
    for command in [
        "apt-get -y install curl",
        "apk --no-cache add git",
        "yum install -y x && yum clean all",
        "microdnf install x",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y x",
        "sudo -u root zypper in x",
        "useradd -m app",
        "chown -R 1000 /app",
        "mkdir -p /etc/app",
        "echo x >> /etc/hosts",
        "echo x 2>/var/log/x",
        "printf 'a' | tee -a /etc/profile",
        "sed -i 's/a/b/' /etc/nginx/nginx.conf",
        "ln -s /app/bin/tool /usr/local/bin/tool",
        "cp tool /usr/local/bin/",
        "curl -fsSLo /usr/local/bin/jq https://x",
        "curl -fsSL https://x -o /usr/local/bin/jq",
        "wget -O /usr/local/bin/x https://x",
        "tar -xzf x.tgz -C /usr/local",
        "pip install -r requirements.txt",
        "python3 -m pip install flask",
        "npm i -g pm2",
        "npm install --global yarn",
        "gem install bundler",
        "set -eux; \\\n  apt-get update; \\\n  rm -rf /var/lib/apt/lists/*",
        "[\"apt-get\", \"install\", \"-y\", \"x\"]",
        "[\"/bin/sh\", \"-c\", \"apk add x\"]",
        "bash -euo pipefail -c 'apk add x'",
        "if [ -n \"$X\" ]; then apk add x; fi",
        "dpkg -i x.deb",
        "make && make install",
        "update-ca-certificates",
        "mkdir /project",
        "cp /usr/share/x /app/x",
        "chmod +x /app/start.sh",
        "git clone https://x/y.git /opt/y",
    ] {
        assert!(reason(command).is_some(), "{command} needs root");
    }
}

#[test]
fn commands_that_do_not_need_root() {
    for command in [
        "npm ci",
        "npm install",
        "pip install --user flask",
        "/opt/venv/bin/pip install flask",
        "gem install --user-install x",
        "cp /usr/share/x ./x",
        "mkdir -p /home/build/cache && echo x > /tmp/y",
        "echo '> /etc/x' && echo \"apt-get install\"",
        "echo hi > /tmp/x 2>&1",
        "echo hi > /var/tmp/x",
        "apt-cache policy x",
        "apk info",
        "apt-get --version",
        "go build -o /out/app .",
        "ARCH=\"$(dpkg --print-architecture)\" && echo $ARCH",
        "mkdir -p app/cache # apt-get install",
        "cat /etc/os-release",
    ] {
        assert_eq!(reason(command), None, "{command} needs no root");
    }
}

#[test]
fn reasons_name_the_command_or_the_path() {
    assert_eq!(reason("apk add x").as_deref(), Some("`apk add`"));
    assert_eq!(
        reason("echo x > /etc/motd").as_deref(),
        Some("a write to `/etc/motd`")
    );
}

fn created(command: &str) -> Vec<String> {
    let text = format!("FROM a\nRUN {command}\n");
    let file = crate::dockerfile::parse(&text).expect("parses");
    match file.instructions().get(1) {
        Some(Instruction::Run(run)) => crate::shell::run::commands(&file, run)
            .iter()
            .flat_map(|command| mapping::created_by(command.argv()))
            .collect(),
        _ => panic!("expected RUN"),
    }
}

#[test]
fn created_users_and_groups_are_found() {
    assert_eq!(created("useradd -u 1001 -g app -ms /bin/bash app"), ["app"]);
    assert_eq!(created("useradd --uid=1001 --home-dir /h web"), ["web"]);
    assert_eq!(created("groupadd -r -g 1001 grp"), ["grp"]);
    assert_eq!(
        created("addgroup -S -g 1000 app && adduser -S -D -u 1000 -G app app"),
        ["app", "app"]
    );
    assert_eq!(created("adduser --system --group --uid 999 svc"), ["svc"]);
    assert_eq!(
        created("adduser --disabled-password --gecos \"\" bob"),
        ["bob"]
    );
    assert!(created("addgroup bob wheel").is_empty());
    assert!(created("adduser bob sudo").is_empty());
    assert!(created("usermod -aG node app").is_empty());
}

#[test]
fn root_is_uid_zero_or_root() {
    for user in ["0", "root", "0:0", "root:root", "00", "0:1000"] {
        assert!(crate::stages::is_root_user(user), "{user}");
    }
    for user in ["1000", "1000:0", "node", "", "$USER", "rooty"] {
        assert!(!crate::stages::is_root_user(user), "{user}");
    }
}

#[test]
fn an_unknown_public_user_is_a_missing_fact_without_edit() {
    // The embedded catalog knows the replacement's user but not the public image's.
    let catalog = crate::catalog::Catalog::embedded().expect("catalog");
    let text = "FROM public.ecr.aws/eks/aws-load-balancer-controller:v2.8.0\nRUN apk add curl\n";
    let migration =
        migrate_text(FileKind::Dockerfile, text, Context::new(&catalog)).expect("migrates");
    assert!(!migration.text.contains("USER"), "{}", migration.text);
    let missing: Vec<String> = migration
        .findings
        .iter()
        .filter(|finding| finding.rule == Rule::MissingFact)
        .map(Finding::text)
        .filter(|message| message.contains("`public.user`"))
        .collect();
    assert_eq!(missing.len(), 1, "{:?}", migration.findings);
    assert!(missing[0].contains("65532"), "{}", missing[0]);
}

#[test]
fn a_final_child_of_a_stage_with_an_unknown_runtime_user_is_a_missing_fact() {
    let text = "FROM python:3.12 AS base\nRUN apt-get install -y libpq5\nFROM base\nCOPY . /app\n";
    let (fixed, messages) = run_twice(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12-dev AS base\nUSER root\nRUN apt-get install -y libpq5\nFROM base\nCOPY . /app\n"
    );
    let missing = with_rule(&messages, "missing-fact");
    let user: Vec<_> = missing
        .iter()
        .filter(|message| message.contains("runs as root"))
        .collect();
    assert_eq!(user.len(), 1, "{messages:?}");
    assert!(
        user[0].contains("final stage #1 runs as root"),
        "{}",
        user[0]
    );
}
