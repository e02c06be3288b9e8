//! The command contract on the replacement: public entrypoint scripts, `ENTRYPOINT []`, lint
//! mode and HEALTHCHECK tools, judged by the argv the container starts.

use super::*;

#[test]
fn the_node_entrypoint_script_becomes_an_empty_entrypoint_and_node_runs_the_server() {
    let text = "FROM node:20\nWORKDIR /app\nCOPY . .\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\", \"dist/server.js\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nWORKDIR /app\nCOPY . .\nENTRYPOINT []\nCMD [\"node\", \"dist/server.js\"]\n"
    );
    assert_eq!(
        argv_on_replacement(&fixed),
        Some(strings(&["node", "dist/server.js"]))
    );
    // Run-time arguments still replace the whole command, as with the public script.
    assert_eq!(
        cmd_on_replacement(&fixed),
        Some(strings(&["node", "dist/server.js"]))
    );
    assert_eq!(
        of(&messages, "entrypoint"),
        [
            "`docker-entrypoint.sh` is the entrypoint script of `node:20`, and `reg.example.dev/node:20` has no shell to run it: dropped, ENTRYPOINT [], so the container runs CMD [\"node\", \"dist/server.js\"] as the script did, and `docker run IMAGE ARGS` still replaces the whole command"
        ]
    );
    assert!(of(&messages, "needs-shell").is_empty(), "{messages:?}");
}

#[test]
fn an_entrypoint_script_that_ran_the_default_program_is_replaced_by_the_known_entrypoint() {
    // docker-entrypoint.sh ran `node app.js`; Minimus node's entrypoint is node.
    let text = "FROM node:20\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"app.js\"]\n";
    let (fixed, _) = run_idempotent(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nENTRYPOINT [\"/usr/bin/node\"]\nCMD [\"app.js\"]\n"
    );
    assert_eq!(
        argv_on_replacement(&fixed),
        Some(strings(&["/usr/bin/node", "app.js"]))
    );
    // nginx's replacement entrypoint is unknown: the program is not guessed.
    let text =
        "FROM nginx:1.27\nENTRYPOINT [\"/docker-entrypoint.sh\"]\nCMD [\"-g\", \"daemon off;\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        text.replace("nginx:1.27", "reg.example.dev/nginx:1.27")
    );
    assert_eq!(
        of(&messages, "missing-fact"),
        [
            "ENTRYPOINT runs `/docker-entrypoint.sh`, the entrypoint script of `nginx:1.27`, which ran CMD [\"-g\", \"daemon off;\"] as arguments of `nginx`; `reg.example.dev/nginx:1.27` has no shell to run it, and whether `reg.example.dev/nginx:1.27`'s entrypoint is that program is unknown: add `hardened.entrypoint` to the catalog entry `nginx` (or supply an OCI image config) and run hardport again"
        ]
    );
}

#[test]
fn every_public_entrypoint_script_of_the_catalog_is_dropped_and_the_program_runs() {
    use crate::catalog::Catalog;
    let catalog = Catalog::embedded().expect("embedded catalog");
    let mut checked = 0;
    for entry in catalog.entries() {
        let (Some(public), Some(cmd)) = (&entry.public.entrypoint, &entry.public.cmd) else {
            continue;
        };
        if !public.last().is_some_and(|last| is_entrypoint_script(last))
            || cmd.first().is_none_or(|first| first.starts_with('-'))
        {
            continue;
        }
        checked += 1;
        let image = format!("{}:1", entry.matches[0]);
        for text in [
            format!(
                "FROM {image}\nENTRYPOINT {}\nCMD {}\n",
                json_array(public),
                json_array(cmd)
            ),
            format!("FROM {image}\nCMD {}\n", json_array(cmd)),
        ] {
            let migration = crate::migrate::migrate_text(
                crate::discovery::FileKind::Dockerfile,
                &text,
                crate::rules::Context::new(&catalog),
            )
            .expect("migrates");
            if entry.hardened.shell != Some(false) {
                // Whether the replacement can run the script is unknown: the script stays and
                // the missing fact is named, rather than a guess at what runs instead.
                assert!(
                    migration.findings.iter().any(|finding| {
                        finding.rule == crate::rules::Rule::MissingFact
                            && finding.message.contains("has one")
                    }),
                    "{text}→ {:#?}",
                    migration.findings
                );
                assert_eq!(
                    migration.text.lines().skip(1).collect::<Vec<_>>(),
                    text.lines().skip(1).collect::<Vec<_>>()
                );
                continue;
            }
            let file = crate::dockerfile::parse(&migration.text).expect("parses");
            let model = StageModel::new(&file, &catalog);
            let config = model.config(0, crate::stages::View::Hardened, None);
            let argv: Vec<String> = config
                .entrypoint
                .map(|entrypoint| entrypoint.argv())
                .into_iter()
                .flatten()
                .chain(config.cmd.map(|cmd| cmd.argv()).into_iter().flatten())
                .collect();
            // The public script's program, and nothing of the script, runs (by name: Minimus
            // node's `/usr/bin/node` is public node's `node`).
            let program = program_index(&argv).and_then(|index| argv.get(index));
            assert_eq!(
                program.map(|program| basename(program)),
                Some(basename(&cmd[0])),
                "{text}→\n{}",
                migration.text
            );
            assert!(
                !argv.iter().any(|word| is_entrypoint_script(word)),
                "{text}→\n{}",
                migration.text
            );
            let again = crate::migrate::migrate_text(
                crate::discovery::FileKind::Dockerfile,
                &migration.text,
                crate::rules::Context::new(&catalog),
            )
            .expect("migrates again");
            assert_eq!(again.text, migration.text, "a second run changed it");
        }
    }
    assert!(checked >= 10, "only {checked} entries with a public script");
}

#[test]
fn lint_mode_checks_a_file_already_on_the_replacement() {
    // `node node server.js` on the replacement: the doubled program goes.
    let text = "FROM reg.example.dev/node:22\nCMD [\"node\", \"server.js\"]\n";
    assert_eq!(
        argv_on_replacement(text),
        Some(strings(&["/usr/bin/node", "node", "server.js"]))
    );
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(fixed, "FROM reg.example.dev/node:22\nCMD [\"server.js\"]\n");
    assert_eq!(
        argv_on_replacement(&fixed),
        Some(strings(&["/usr/bin/node", "server.js"]))
    );
    assert_eq!(of(&messages, "entrypoint").len(), 1, "{messages:?}");
    // A public entrypoint script the replacement lacks: dropped there too.
    let text = "FROM reg.example.dev/node:22\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\", \"server.js\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:22\nENTRYPOINT []\nCMD [\"node\", \"server.js\"]\n"
    );
    assert!(
        of(&messages, "entrypoint")[0].contains("the entrypoint script of the public `node` image"),
        "{messages:?}"
    );
    // What lint mode leaves alone: a CMD of arguments, another program, an explicit entrypoint.
    for text in [
        "FROM reg.example.dev/node:22\nCMD [\"server.js\"]\n",
        "FROM reg.example.dev/node:22\nENTRYPOINT []\nCMD [\"node\", \"server.js\"]\n",
        "FROM reg.example.dev/node:22\nENTRYPOINT [\"/usr/bin/node\"]\nCMD [\"server.js\"]\n",
        "FROM reg.example.dev/python:3.12\nCMD [\"python\", \"app.py\"]\n",
    ] {
        let (fixed, messages) = run_idempotent(text);
        assert_eq!(fixed, text);
        assert!(
            of(&messages, "entrypoint").is_empty(),
            "{text}: {messages:?}"
        );
    }
}

#[test]
fn a_healthcheck_tool_on_a_shell_less_image_is_reported() {
    let text = "FROM node:20\nCOPY . /app\nHEALTHCHECK CMD curl -f http://localhost:3000/health\nCMD [\"node\", \"server.js\"]\n";
    let (fixed, messages) = run_idempotent(text);
    assert!(
        fixed.contains("HEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost:3000/health\"]"),
        "{fixed}"
    );
    assert_eq!(
        of(&messages, "exec-probe"),
        [
            "`HEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost:3000/health\"]` runs `curl`, which `reg.example.dev/node:20` (stage #0) is not known to have: production images have no shell and as a rule no tools such as curl, wget or nc: copy a health-check program into the stage and run it in exec form, or check health from outside the container (a Kubernetes httpGet or tcpSocket probe)"
        ]
    );
    assert_eq!(
        Rule::ExecProbe.severity(),
        crate::diagnostic::Severity::Warning
    );
    // The program the container runs, a file the stage copies in, or a stage with a shell: fine.
    for text in [
        "FROM node:20\nHEALTHCHECK CMD [\"node\", \"healthcheck.js\"]\nCMD [\"server.js\"]\n",
        "FROM node:20\nCOPY --from=tools /bin/grpc_health_probe /bin/\nHEALTHCHECK CMD [\"grpc_health_probe\", \"-addr=:50051\"]\nCMD [\"server.js\"]\n",
        "FROM node:20\nRUN npm ci\nHEALTHCHECK CMD curl -f http://localhost/\nCMD [\"server.js\"]\n",
        "FROM reg.example.dev/node:20\nHEALTHCHECK CMD [\"/usr/bin/node\", \"hc.js\"]\n",
    ] {
        let (_, messages) = run_idempotent(text);
        assert!(
            of(&messages, "exec-probe").is_empty(),
            "{text}: {messages:?}"
        );
    }
    // Lint mode reports it as well.
    let (_, messages) = run_idempotent(
        "FROM reg.example.dev/node:20\nHEALTHCHECK CMD [\"wget\", \"-q\", \"http://x/\"]\n",
    );
    assert_eq!(of(&messages, "exec-probe").len(), 1, "{messages:?}");
}

#[test]
fn wrappers_that_came_with_the_public_script_go_with_it() {
    let catalog = r#"
version: 1
registry: reg.example.dev
images:
  - name: fluentd
    match: [fluentd]
    source: test
    public: {entrypoint: [tini, "--", /bin/entrypoint.sh], cmd: [fluentd]}
    hardened: {shell: false}
"#;
    // Written as the public image has it: tini is the public image's, not known on the
    // replacement, so it goes too.
    let text = "FROM fluentd:1\nENTRYPOINT [\"tini\", \"--\", \"/bin/entrypoint.sh\"]\nCMD [\"fluentd\"]\n";
    let (fixed, _) = run_with(catalog, text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/fluentd:1\nENTRYPOINT []\nCMD [\"fluentd\"]\n"
    );
    // A wrapper the author chose (another one than the public image's) stays.
    let text =
        "FROM fluentd:1\nENTRYPOINT [\"dumb-init\", \"/bin/entrypoint.sh\"]\nCMD [\"fluentd\"]\n";
    let (fixed, _) = run_with(catalog, text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/fluentd:1\nENTRYPOINT [\"dumb-init\"]\nCMD [\"fluentd\"]\n"
    );
}
