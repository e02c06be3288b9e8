use super::program::{is_entrypoint_script, passes_through, program_index, program_needs_shell};
use super::render::{json_array, json_escape};
use super::shell_form::split_words;
use super::*;
use crate::diagnostic::Fix;
use crate::fix::apply_fixes;
use crate::rules::Rule;
use crate::rules::basename;
use crate::rules::test_support::{run, test_catalog};

mod contract;

/// Messages of one rule, without the `rule: ` prefix.
fn of(messages: &[String], rule: &str) -> Vec<String> {
    let prefix = format!("{rule}: ");
    messages
        .iter()
        .filter_map(|message| message.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// Run the pipeline twice: the second run must change nothing and fix nothing.
fn run_idempotent(text: &str) -> (String, Vec<String>) {
    let (fixed, messages) = run(text);
    let (again, second) = run(&fixed);
    assert_eq!(again, fixed, "second run changed the file");
    for rule in ["entrypoint", "exec-form"] {
        assert!(of(&second, rule).is_empty(), "second run: {second:?}");
    }
    (fixed, messages)
}

/// One pass of this module over `text` with the test catalog, its fixes applied.
fn one_pass(text: &str) -> (String, Vec<Diagnostic>) {
    let catalog = test_catalog();
    let file = crate::dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let diagnostics = check(&model);
    let fixes: Vec<&Fix> = diagnostics.iter().filter_map(|d| d.fix.as_ref()).collect();
    (apply_fixes(text, &fixes).text, diagnostics)
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

/// The final stage's effective ENTRYPOINT and CMD on the replacement, with the test catalog.
fn on_replacement(text: &str) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let catalog = test_catalog();
    let file = crate::dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let last = model.stages.len() - 1;
    let config = model.config(last, crate::stages::View::Hardened, None);
    (
        config.entrypoint.map(|entrypoint| entrypoint.argv()),
        config.cmd.map(|cmd| cmd.argv()),
    )
}

/// The argv the final stage's container starts on the replacement: `None` when unknown.
fn argv_on_replacement(text: &str) -> Option<Vec<String>> {
    let (entrypoint, cmd) = on_replacement(text);
    let mut argv = entrypoint?;
    argv.extend(cmd?);
    Some(argv)
}

/// The CMD on the replacement: what `docker run IMAGE ARGS` and Compose `command:` replace.
fn cmd_on_replacement(text: &str) -> Option<Vec<String>> {
    on_replacement(text).1
}

#[test]
fn node_cmd_keeps_the_program_and_the_contract_with_an_empty_entrypoint() {
    let (fixed, messages) =
        run_idempotent("FROM node:20\nCOPY . /app\nCMD [\"node\",\"server.js\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nCOPY . /app\nENTRYPOINT []\nCMD [\"node\",\"server.js\"]\n"
    );
    assert_eq!(
        of(&messages, "entrypoint"),
        [
            "on `node:20`, the entrypoint [\"docker-entrypoint.sh\"] ran CMD [\"node\", \"server.js\"] as its program; `reg.example.dev/node:20` would run [\"/usr/bin/node\", \"node\", \"server.js\"] (its entrypoint [\"/usr/bin/node\"] before CMD): `ENTRYPOINT []` written before CMD, so the container runs CMD [\"node\", \"server.js\"] as its whole command and `docker run IMAGE ARGS` still replaces it"
        ]
    );
}

#[test]
fn shell_form_cmd_is_written_in_exec_form_with_an_empty_entrypoint_in_the_same_run() {
    let (fixed, messages) = run_idempotent("FROM node:20\nCMD node server.js\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nENTRYPOINT []\nCMD [\"node\", \"server.js\"]\n"
    );
    assert_eq!(
        of(&messages, "exec-form"),
        [
            "`CMD node server.js` runs through /bin/sh, which `reg.example.dev/node:20` does not have: written in exec form [\"node\", \"server.js\"]"
        ]
    );
    assert_eq!(of(&messages, "entrypoint").len(), 1, "{messages:?}");
}

#[test]
fn a_hand_migrated_shell_form_cmd_gets_exec_form_and_loses_the_doubled_program() {
    // Lint mode: already on the replacement, whose entrypoint is node: `node node server.js`.
    let text = "FROM reg.example.dev/node:20\nCMD node server.js\n";
    assert_eq!(
        argv_on_replacement(text),
        Some(strings(&[
            "/usr/bin/node",
            "/bin/sh",
            "-c",
            "node server.js"
        ]))
    );
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nCMD [\"server.js\"]\n");
    assert_eq!(
        argv_on_replacement(&fixed),
        Some(strings(&["/usr/bin/node", "server.js"]))
    );
    assert_eq!(of(&messages, "exec-form").len(), 1, "{messages:?}");
    assert_eq!(of(&messages, "entrypoint").len(), 1, "{messages:?}");
}

#[test]
fn another_program_in_cmd_gets_an_empty_entrypoint_and_keeps_the_contract() {
    let text = "FROM node:20\nCMD [\"npm\", \"start\"]\n";
    let (fixed, diagnostics) = one_pass(text);
    assert_eq!(
        fixed,
        "FROM node:20\nENTRYPOINT []\nCMD [\"npm\", \"start\"]\n"
    );
    let entrypoint: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.rule == Rule::Entrypoint)
        .collect();
    assert_eq!(entrypoint.len(), 1);
    assert_eq!(
        entrypoint[0].text(),
        "on `node:20`, the entrypoint [\"docker-entrypoint.sh\"] ran CMD [\"npm\", \"start\"] as its program; `reg.example.dev/node:20` would run [\"/usr/bin/node\", \"npm\", \"start\"] (its entrypoint [\"/usr/bin/node\"] before CMD): `ENTRYPOINT []` written before CMD, so the container runs CMD [\"npm\", \"start\"] as its whole command and `docker run IMAGE ARGS` still replaces it"
    );
    let (migrated, _) = run_idempotent(text);
    assert_eq!(
        argv_on_replacement(&migrated),
        Some(strings(&["npm", "start"]))
    );
    // The contract: run-time arguments replace CMD, which is still the whole command.
    assert_eq!(
        cmd_on_replacement(&migrated),
        Some(strings(&["npm", "start"]))
    );
}

#[test]
fn a_uwsgi_cmd_keeps_its_contract_on_an_unknown_entrypoint() {
    // Not `ENTRYPOINT ["uwsgi"]`: `docker run IMAGE manage.py migrate` would then run uwsgi.
    let text = "FROM python:3.12\nCMD [\"uwsgi\", \"--ini\", \"uwsgi.ini\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT []\nCMD [\"uwsgi\", \"--ini\", \"uwsgi.ini\"]\n"
    );
    let argv = strings(&["uwsgi", "--ini", "uwsgi.ini"]);
    assert_eq!(argv_on_replacement(&fixed), Some(argv.clone()));
    assert_eq!(cmd_on_replacement(&fixed), Some(argv));
    // The replacement's entrypoint is unknown: the edit does not depend on it, but what it
    // bypasses is unknown, and that is said.
    assert_eq!(
        of(&messages, "missing-fact"),
        [
            "the entrypoint of `reg.example.dev/python:3.12` is unknown: `ENTRYPOINT []` makes the container run CMD whatever it is, but also skips any setup that entrypoint does: add `hardened.entrypoint` to the catalog entry `python` (or supply an OCI image config) and run hardport again"
        ]
    );
    // A CMD without arguments is no different.
    let (fixed, _) = run_idempotent("FROM python:3.12\nCMD [\"python3\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT []\nCMD [\"python3\"]\n"
    );
    // An empty hardened entrypoint runs CMD as it is: CMD alone, no edit, no missing fact.
    let (fixed, messages) = run_with(UNKNOWN_SHELL, "FROM app:1\nCMD [\"uwsgi\", \"app.ini\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/app:1\nCMD [\"uwsgi\", \"app.ini\"]\n"
    );
    assert!(of(&messages, "missing-fact").is_empty(), "{messages:?}");
}

#[test]
fn postgres_entrypoint_drops_the_public_script() {
    let (fixed, messages) =
        run_idempotent("FROM postgres:16\nENTRYPOINT [\"docker-entrypoint.sh\", \"postgres\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/postgres:16\nENTRYPOINT [\"postgres\"]\n"
    );
    assert_eq!(
        of(&messages, "entrypoint"),
        [
            "`docker-entrypoint.sh` is the entrypoint script of `postgres:16`, and `reg.example.dev/postgres:16` has no shell to run it: dropped, ENTRYPOINT [\"postgres\"]"
        ]
    );
    assert!(of(&messages, "needs-shell").is_empty(), "{messages:?}");
}

#[test]
fn a_pipe_needs_a_shell() {
    let (fixed, messages) = run_idempotent("FROM python:3.12\nCMD python app.py | tee log\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nCMD python app.py | tee log\n"
    );
    assert_eq!(
        of(&messages, "needs-shell"),
        [
            "`CMD python app.py | tee log` needs a shell for a pipe `|`, and `reg.example.dev/python:3.12` (stage #0) has none: use `reg.example.dev/python:3.12-dev` for this stage (it has a shell), or write the command in exec form without shell features"
        ]
    );
    assert!(of(&messages, "exec-form").is_empty());
}

#[test]
fn an_entrypoint_script_the_dockerfile_copies_in_needs_a_shell() {
    let text = "FROM node:20\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\", \"app.js\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        text.replace("FROM node:20", "FROM reg.example.dev/node:20")
    );
    assert_eq!(
        of(&messages, "needs-shell"),
        [
            "`ENTRYPOINT [\"docker-entrypoint.sh\"]` needs a shell for the shell script `docker-entrypoint.sh` (the Dockerfile copies it in), and `reg.example.dev/node:20` (stage #0) has none: use `reg.example.dev/node:20-dev` for this stage (it has a shell), or do the script's setup at build time and run its program in exec form"
        ]
    );
    assert!(of(&messages, "entrypoint").is_empty(), "{messages:?}");
}

#[test]
fn an_own_entrypoint_sh_needs_a_shell() {
    let text =
        "FROM python:3.12\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n";
    let (_, messages) = run_idempotent(text);
    assert_eq!(of(&messages, "needs-shell").len(), 1, "{messages:?}");
    assert!(
        of(&messages, "needs-shell")[0]
            .contains("the shell script `/entrypoint.sh` (the Dockerfile copies it in)"),
        "{messages:?}"
    );
}

#[test]
fn a_final_stage_that_runs_commands_keeps_its_shell_form() {
    let text = "FROM node:20\nRUN npm ci\nCMD npm start && echo done\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN npm ci\nUSER 1000:1000\nENTRYPOINT []\nCMD npm start && echo done\n"
    );
    assert_eq!(
        argv_on_replacement(&fixed),
        Some(strings(&["/bin/sh", "-c", "npm start && echo done"]))
    );
    assert!(of(&messages, "exec-form").is_empty(), "{messages:?}");
    assert!(of(&messages, "needs-shell").is_empty(), "{messages:?}");
}

#[test]
fn crlf_and_lowercase_keywords_are_kept() {
    let (fixed, _) = run_idempotent("from node:20\r\ncopy . /app\r\ncmd node server.js\r\n");
    assert_eq!(
        fixed,
        "from reg.example.dev/node:20\r\ncopy . /app\r\nentrypoint []\r\ncmd [\"node\", \"server.js\"]\r\n"
    );
    let (fixed, _) = one_pass("from node:20\r\n  cmd [\"npm\", \"start\"]\r\n");
    assert_eq!(
        fixed,
        "from node:20\r\n  entrypoint []\r\n  cmd [\"npm\", \"start\"]\r\n"
    );
}

/// Migrate with a catalog given as YAML (facts the test catalog does not have).
fn run_with(catalog: &str, text: &str) -> (String, Vec<String>) {
    crate::rules::test_support::run_with_catalog(catalog, text)
}

const UNKNOWN_SHELL: &str = r#"
version: 1
registry: reg.example.dev
images:
  - name: app
    match: [app]
    source: test
    public: {entrypoint: [docker-entrypoint.sh], cmd: [app]}
    hardened: {entrypoint: []}
"#;

#[test]
fn a_shell_form_command_on_an_image_whose_shell_is_unknown_is_a_missing_fact() {
    let (fixed, messages) = run_with(UNKNOWN_SHELL, "FROM app:1\nCMD app serve --port 80\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/app:1\nCMD app serve --port 80\n"
    );
    assert_eq!(
        of(&messages, "missing-fact"),
        [
            "`CMD app serve --port 80` runs through /bin/sh, and the catalog does not say whether `reg.example.dev/app:1` has a shell: add `hardened.shell` to the catalog entry `app` (or supply an OCI image config) and run hardport again, or write it in exec form [\"app\", \"serve\", \"--port\", \"80\"]"
        ]
    );
    assert!(of(&messages, "exec-form").is_empty());
    // Exec form needs no shell, and an empty hardened entrypoint runs CMD as it is.
    let (fixed, messages) = run_with(UNKNOWN_SHELL, "FROM app:1\nCMD [\"app\", \"serve\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/app:1\nCMD [\"app\", \"serve\"]\n"
    );
    assert!(of(&messages, "missing-fact").is_empty(), "{messages:?}");
    let (_, messages) = run_with(UNKNOWN_SHELL, "FROM app:1\nCMD [\"sh\", \"-c\", \"app\"]\n");
    assert_eq!(of(&messages, "missing-fact").len(), 1, "{messages:?}");
    assert!(of(&messages, "missing-fact")[0].contains("needs a shell for running `sh`"));
}

#[test]
fn a_cmd_relying_on_an_unknown_public_entrypoint_is_a_missing_fact() {
    let (fixed, messages) = run_idempotent("FROM golang:1.22\nCMD [\"/app\"]\n");
    assert_eq!(fixed, "FROM reg.example.dev/go:1.22\nCMD [\"/app\"]\n");
    assert_eq!(
        of(&messages, "missing-fact"),
        [
            "CMD relies on the entrypoint of `golang:1.22`, which the catalog does not record: add `public.entrypoint` to the catalog entry `go` (or supply an OCI image config) and run hardport again"
        ]
    );
}

#[test]
fn a_public_script_on_an_image_with_a_shell_and_an_unknown_entrypoint_is_a_missing_fact() {
    let catalog = crate::catalog::Catalog::embedded().expect("embedded catalog");
    let text =
        "FROM postgres:16\nRUN echo hi\nENTRYPOINT [\"docker-entrypoint.sh\", \"postgres\"]\n";
    let migration = crate::migrate::migrate_text(
        crate::discovery::FileKind::Dockerfile,
        text,
        crate::rules::Context::new(&catalog),
    )
    .expect("migrates");
    assert_eq!(
        migration.text,
        "FROM reg.mini.dev/postgres:16-dev\nUSER root\nRUN echo hi\nENTRYPOINT [\"docker-entrypoint.sh\", \"postgres\"]\n"
    );
    let facts: Vec<(&str, Option<&str>)> = migration
        .findings
        .iter()
        .filter(|finding| finding.rule == Rule::MissingFact)
        // The user rules' own missing fact (the replacement's runtime user) is theirs.
        .filter(|finding| finding.message.starts_with("ENTRYPOINT"))
        .map(|finding| (finding.message.as_str(), finding.suggestion.as_deref()))
        .collect();
    assert_eq!(
        facts,
        [(
            "ENTRYPOINT calls `docker-entrypoint.sh`, the entrypoint script of `postgres:16`; whether `reg.mini.dev/postgres:16` has it is unknown",
            Some(
                "add `hardened.entrypoint` to the catalog entry `postgres` (or supply an OCI image config) and run hardport again"
            )
        )]
    );
}

#[test]
fn a_known_different_entrypoint_drops_the_script_even_with_a_shell() {
    // Test catalog: postgres's replacement runs `postgres` itself; the -dev stage has a shell.
    let (fixed, messages) = run_idempotent(
        "FROM postgres:16\nRUN echo hi\nENTRYPOINT [\"tini\", \"--\", \"/usr/local/bin/docker-entrypoint.sh\", \"postgres\"]\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/postgres:16-dev\nUSER root\nRUN echo hi\nUSER 70:70\nENTRYPOINT [\"tini\", \"--\", \"postgres\"]\n"
    );
    assert_eq!(
        of(&messages, "entrypoint"),
        [
            "`/usr/local/bin/docker-entrypoint.sh` is the entrypoint script of `postgres:16`, and `reg.example.dev/postgres:16` runs [\"postgres\"] as its entrypoint instead: dropped, ENTRYPOINT [\"tini\", \"--\", \"postgres\"]"
        ]
    );
}

#[test]
fn a_cmd_starting_with_the_hardened_entrypoint_gets_an_empty_entrypoint_and_keeps_the_array_style()
{
    let (fixed, _) =
        run_idempotent("FROM postgres:16\nCMD [\"postgres\",\"-c\",\"max_connections=200\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/postgres:16\nENTRYPOINT []\nCMD [\"postgres\",\"-c\",\"max_connections=200\"]\n"
    );
    let (fixed, _) = run_idempotent(
        "FROM node:20\nCMD [ \"/usr/local/bin/node\" , \"-e\", \"console.log(\\\"hi\\u0021\\\")\" ]\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nENTRYPOINT []\nCMD [ \"/usr/local/bin/node\" , \"-e\", \"console.log(\\\"hi\\u0021\\\")\" ]\n"
    );
    // On a file already on the replacement (lint mode) the doubled program is dropped, in
    // the array's own layout.
    let (fixed, _) = run_idempotent(
        "FROM reg.example.dev/node:20\nCMD [ \"/usr/local/bin/node\" , \"-e\", \"console.log(\\\"hi\\u0021\\\")\" ]\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nCMD [ \"-e\" , \"console.log(\\\"hi\\u0021\\\")\" ]\n"
    );
    let (fixed, _) =
        run_idempotent("FROM reg.example.dev/node:20\nCMD [\"node\", \\\n     \"server.js\"]\n");
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nCMD [\"server.js\"]\n");
    let (fixed, _) = run_idempotent("FROM reg.example.dev/node:20\nCMD [\"node\"]\n");
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nCMD []\n");
}

#[test]
fn an_inherited_cmd_is_fixed_where_it_is_written() {
    let (fixed, messages) = run_idempotent(
        "FROM node:20 AS base\nWORKDIR /app\nCMD node server.js\nFROM base\nCOPY . /app\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20 AS base\nWORKDIR /app\nENTRYPOINT []\nCMD [\"node\", \"server.js\"]\nFROM base\nCOPY . /app\n"
    );
    assert_eq!(of(&messages, "exec-form").len(), 1, "{messages:?}");
}

#[test]
fn an_entrypoint_in_a_later_stage_resets_the_inherited_cmd() {
    let (fixed, messages) = run_idempotent(
        "FROM node:20 AS base\nCMD node server.js\nFROM base\nENTRYPOINT [\"node\", \"worker.js\"]\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20 AS base\nCMD node server.js\nFROM base\nENTRYPOINT [\"node\", \"worker.js\"]\n"
    );
    assert!(of(&messages, "exec-form").is_empty(), "{messages:?}");
}

#[test]
fn a_healthcheck_shared_by_two_targets_is_reported_once_and_a_build_stage_is_ignored() {
    let text = "FROM python:3.12 AS base\nHEALTHCHECK CMD python -c 'import app' || exit 1\nFROM base AS api\nCMD [\"python\", \"api.py\"]\nFROM base AS worker\nCMD [\"python\", \"worker.py\"]\n";
    let (_, messages) = run_idempotent(text);
    assert_eq!(of(&messages, "needs-shell").len(), 1, "{messages:?}");
    assert!(
        of(&messages, "needs-shell")[0].contains("the list operator `||`"),
        "{messages:?}"
    );
    // A stage nothing runs (a build stage another copies from) is not checked.
    let (_, messages) = run_idempotent(
        "FROM python:3.12 AS build\nCMD python x.py | tee log\nFROM scratch\nCOPY --from=build /a /a\n",
    );
    assert!(of(&messages, "needs-shell").is_empty(), "{messages:?}");
}

#[test]
fn a_shell_form_entrypoint_followed_by_cmd_is_not_converted() {
    let (fixed, messages) =
        run_idempotent("FROM python:3.12\nENTRYPOINT python app.py\nCMD [\"--debug\"]\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT python app.py\nCMD [\"--debug\"]\n"
    );
    assert_eq!(of(&messages, "needs-shell").len(), 1, "{messages:?}");
    assert!(of(&messages, "needs-shell")[0].contains("ignoring CMD"));
    let (fixed, _) = run_idempotent("FROM python:3.12\nENTRYPOINT python app.py\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT [\"python\", \"app.py\"]\n"
    );
}

#[test]
fn a_hand_written_dev_tag_has_a_shell() {
    let text = "FROM reg.example.dev/node:20-dev\nCMD node server.js | tee log\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(fixed, text);
    assert!(of(&messages, "needs-shell").is_empty(), "{messages:?}");
}

#[test]
fn single_quoted_json_is_shell_form_and_needs_a_shell() {
    let (_, messages) = run_idempotent("FROM python:3.12\nCMD ['python', 'app.py']\n");
    assert_eq!(of(&messages, "needs-shell").len(), 1, "{messages:?}");
    assert!(
        of(&messages, "needs-shell")[0].contains("text that is not a JSON array"),
        "{messages:?}"
    );
}

#[test]
fn a_script_run_as_cmd_needs_a_shell() {
    let (_, messages) =
        run_idempotent("FROM python:3.12\nCOPY . /app\nCMD [\"/app/start.sh\", \"--prod\"]\n");
    assert_eq!(of(&messages, "needs-shell").len(), 1, "{messages:?}");
    assert!(
        of(&messages, "needs-shell")[0].contains("the shell script `/app/start.sh`"),
        "{messages:?}"
    );
}

#[test]
fn exec_form_conversion_and_the_empty_entrypoint_are_one_fix() {
    let text = "FROM nginx:1.27\nCMD nginx -g 'daemon off;'\n";
    let (fixed, diagnostics) = one_pass(text);
    assert_eq!(
        fixed,
        "FROM nginx:1.27\nENTRYPOINT []\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n"
    );
    let fixes: Vec<&Fix> = diagnostics.iter().filter_map(|d| d.fix.as_ref()).collect();
    assert_eq!(fixes.len(), 2, "exec-form and entrypoint");
    assert_eq!(
        fixes[0], fixes[1],
        "one fix, applied together or not at all"
    );
}

#[test]
fn multi_stage_with_a_heredoc_build_and_an_arg_driven_runtime() {
    let text = "ARG NODE=node:20\nFROM node:20 AS build\nRUN <<EOF\nnpm ci\nnpm run build\nEOF\nFROM ${NODE}\nCOPY --from=build /app/dist /app\nCMD exec node /app/server.js\n";
    let (fixed, _) = run_idempotent(text);
    assert_eq!(
        fixed,
        "ARG NODE=reg.example.dev/node:20\nFROM reg.example.dev/node:20-dev AS build\nUSER root\nRUN <<EOF\nnpm ci\nnpm run build\nEOF\nFROM ${NODE}\nCOPY --from=build /app/dist /app\nENTRYPOINT []\nCMD [\"node\", \"/app/server.js\"]\n"
    );
}

#[test]
fn split_words_removes_quotes_and_refuses_shell_syntax() {
    let ok = |text: &str| split_words(text).expect(text);
    assert_eq!(ok("node  server.js"), ["node", "server.js"]);
    assert_eq!(ok("nginx -g 'daemon off;'"), ["nginx", "-g", "daemon off;"]);
    assert_eq!(ok("a\"b c\"d '' x#y"), ["ab cd", "", "x#y"]);
    assert_eq!(ok("exec gunicorn app:app"), ["gunicorn", "app:app"]);
    assert_eq!(
        ok("python -c \"print('*')\""),
        ["python", "-c", "print('*')"]
    );
    let err = |text: &str| split_words(text).expect_err(text);
    assert_eq!(err("a | b"), "a pipe `|`");
    assert_eq!(err("a && b"), "the list operator `&&`");
    assert_eq!(err("a || b"), "the list operator `||`");
    assert_eq!(err("a & b"), "a background job `&`");
    assert_eq!(err("a; b"), "a command list `;`");
    assert_eq!(err("a > log"), "a redirection `<`/`>`");
    assert_eq!(err("node *.js"), "a glob `*`/`?`/`[`");
    assert_eq!(err("node \"$APP\""), "variable expansion `$`");
    assert_eq!(
        err("node `which app`"),
        "command substitution with backticks"
    );
    assert_eq!(err("node a\\ b"), "a backslash escape");
    assert_eq!(err("node \\\n  app.js"), "a line continuation");
    assert_eq!(err("node ~/app.js"), "tilde expansion `~`");
    assert_eq!(err("node app.js # run"), "a comment `#`");
    assert_eq!(err("(node app.js)"), "a subshell `(`…`)`");
    assert_eq!(
        err("NODE_ENV=production node app.js"),
        "the variable assignment `NODE_ENV=production`"
    );
    assert_eq!(err("cd /app"), "the shell builtin `cd`");
    assert_eq!(err("exec"), "the shell builtin `exec`");
    assert_eq!(err("node 'app.js"), "an unterminated quote");
    assert_eq!(err("   "), "an empty command");
}

#[test]
fn programs_are_found_after_init_wrappers() {
    let words = |list: &[&str]| list.iter().map(|word| word.to_string()).collect::<Vec<_>>();
    assert_eq!(program_index(&words(&["tini", "-s", "--", "app"])), Some(3));
    assert_eq!(
        program_index(&words(&["/usr/bin/env", "-i", "A=1", "bash"])),
        Some(3)
    );
    assert_eq!(program_index(&words(&["dumb-init", "--"])), None);
    assert!(passes_through(&words(&[])));
    assert!(passes_through(&words(&[
        "tini",
        "--",
        "/bin/entrypoint.sh"
    ])));
    assert!(passes_through(&words(&["docker-php-entrypoint"])));
    assert!(!passes_through(&words(&["/keda", "--zap-log-level=info"])));
    assert_eq!(
        program_needs_shell(&words(&["/bin/bash", "-c", "x"])).as_deref(),
        Some("running `bash`")
    );
    assert_eq!(program_needs_shell(&words(&["node", "start.sh"])), None);
}

#[test]
fn json_escaping_and_default_style() {
    assert_eq!(json_escape("a\"b\\c\td\u{1}"), "a\\\"b\\\\c\\td\\u0001");
    assert_eq!(json_array(&["a b".into(), "c".into()]), "[\"a b\", \"c\"]");
    assert_eq!(json_array(&[]), "[]");
}

#[test]
fn a_bom_and_an_escape_directive_do_not_shift_edits() {
    let (fixed, _) = run_idempotent("\u{feff}# escape=`\nFROM node:20\nCMD node server.js\n");
    assert_eq!(
        fixed,
        "\u{feff}# escape=`\nFROM reg.example.dev/node:20\nENTRYPOINT []\nCMD [\"node\", \"server.js\"]\n"
    );
}

#[test]
fn a_cmd_after_an_entrypoint_that_runs_its_arguments_is_the_program() {
    // `tini --` runs CMD, so CMD's shell form needs a shell like any program would.
    let (fixed, messages) =
        run_idempotent("FROM python:3.12\nENTRYPOINT [\"tini\", \"--\"]\nCMD python app.py\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT [\"tini\", \"--\"]\nCMD [\"python\", \"app.py\"]\n"
    );
    assert_eq!(of(&messages, "exec-form").len(), 1, "{messages:?}");
    // An ENTRYPOINT that is a program takes CMD as arguments: shell form there runs no shell.
    let (fixed, messages) =
        run_idempotent("FROM python:3.12\nENTRYPOINT [\"python\"]\nCMD app.py\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT [\"python\"]\nCMD app.py\n"
    );
    assert!(of(&messages, "exec-form").is_empty(), "{messages:?}");
    // The public script that ran CMD goes, and the CMD it runs gets exec form.
    let (fixed, _) =
        one_pass("FROM node:20\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD node server.js\n");
    assert_eq!(
        fixed,
        "FROM node:20\nENTRYPOINT []\nCMD [\"node\", \"server.js\"]\n"
    );
}

#[test]
fn a_cmd_that_needs_a_shell_gets_no_entrypoint_advice() {
    let (_, messages) = run_idempotent("FROM node:20\nCMD npm start | tee log\n");
    assert_eq!(of(&messages, "needs-shell").len(), 1, "{messages:?}");
    assert!(of(&messages, "entrypoint").is_empty(), "{messages:?}");
}

#[test]
fn a_cmd_of_options_is_left_to_the_same_default_program() {
    // docker-entrypoint.sh runs `node --max-old-space-size=4096 app.js`; so does /usr/bin/node.
    let text = "FROM node:20\nCMD [\"--max-old-space-size=4096\", \"app.js\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(fixed, text.replace("node:20", "reg.example.dev/node:20"));
    assert!(of(&messages, "entrypoint").is_empty(), "{messages:?}");
    // nginx's replacement entrypoint is unknown: report, do not guess.
    let text = "FROM nginx:1.27\nCMD [\"-g\", \"daemon off;\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        text.replace("nginx:1.27", "reg.example.dev/nginx:1.27")
    );
    assert_eq!(
        of(&messages, "entrypoint"),
        [
            "CMD [\"-g\", \"daemon off;\"] starts with an option: on `nginx:1.27`, the entrypoint [\"/docker-entrypoint.sh\"] ran it as arguments of `nginx`; `reg.example.dev/nginx:1.27` has an unknown entrypoint: name the program: `ENTRYPOINT []` and the whole command in CMD"
        ]
    );
    // `CMD []` leaves the script's default: nothing to carry over.
    let (_, messages) = run_idempotent("FROM node:20\nCMD []\n");
    assert!(of(&messages, "entrypoint").is_empty(), "{messages:?}");
}

#[test]
fn a_script_the_replacement_also_runs_is_kept() {
    let catalog = r#"
version: 1
registry: reg.example.dev
images:
  - name: app
    match: [app]
    source: test
    public: {entrypoint: [docker-entrypoint.sh], cmd: [app]}
    hardened: {entrypoint: [docker-entrypoint.sh], shell: true}
"#;
    let text = "FROM app:1\nENTRYPOINT [\"docker-entrypoint.sh\", \"app\"]\n";
    let (fixed, messages) = run_with(catalog, text);
    assert_eq!(fixed, text.replace("app:1", "reg.example.dev/app:1"));
    assert_eq!(messages.len(), 1, "only base-image: {messages:?}");
}

#[test]
fn a_script_file_cmd_is_never_made_the_entrypoint() {
    // Public node's script runs `node app.js`; Minimus node's entrypoint is node: same meaning.
    let text = "FROM node:20\nCMD [\"app.js\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nCMD [\"app.js\"]\n");
    assert!(of(&messages, "entrypoint").is_empty(), "{messages:?}");
    // Public python has no entrypoint script: the container ran `app.py` itself (its shebang),
    // and `ENTRYPOINT []` keeps that whatever the replacement's entrypoint is.
    let text = "FROM python:3.12\nCMD [\"app.py\"]\n";
    let (fixed, _) = run_idempotent(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/python:3.12\nENTRYPOINT []\nCMD [\"app.py\"]\n"
    );
    assert_eq!(argv_on_replacement(&fixed), Some(strings(&["app.py"])));
    // Where a public script ran the default program and the replacement's entrypoint is
    // unknown, say so; do not guess.
    let text = "FROM nginx:1.27\nCMD [\"site.pl\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        text.replace("nginx:1.27", "reg.example.dev/nginx:1.27")
    );
    assert_eq!(of(&messages, "entrypoint").len(), 1, "{messages:?}");
    assert!(
        of(&messages, "entrypoint")[0].contains("starts with a script file"),
        "{messages:?}"
    );
}

#[test]
fn a_stage_on_the_image_default_hears_when_the_default_differs() {
    let text = "FROM node:20\nCOPY . /app\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(fixed, "FROM reg.example.dev/node:20\nCOPY . /app\n");
    assert_eq!(
        of(&messages, "entrypoint"),
        [
            "stage #0 sets no ENTRYPOINT or CMD, so it runs the image's default: [\"docker-entrypoint.sh\", \"node\"] on `node:20`, but [\"/usr/bin/node\", \"--help\"] on `reg.example.dev/node:20`: set CMD explicitly if the container should keep doing what it did"
        ]
    );
    // Unknown defaults (the test catalog states no entrypoint for go): nothing to compare.
    let (_, messages) = run_idempotent("FROM golang:1.22\nCOPY . /src\n");
    assert!(of(&messages, "entrypoint").is_empty(), "{messages:?}");
}

#[test]
fn a_default_command_through_a_public_script_on_an_unknown_replacement_is_a_missing_fact() {
    // nginx's public default runs /docker-entrypoint.sh; the test catalog does not say what
    // its replacement starts with.
    let (fixed, messages) = run_idempotent("FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/nginx:1.27\nCOPY site /usr/share/nginx/html\n"
    );
    assert!(
        of(&messages, "missing-fact").iter().any(|message| message.starts_with(
            "stage #0 sets no ENTRYPOINT or CMD, so it runs the image's default: [\"/docker-entrypoint.sh\", \"nginx\", \"-g\", \"daemon off;\"] on `nginx:1.27`, and an unknown command"
        )),
        "{messages:?}"
    );
}
