use super::*;
use crate::dockerfile;

const CATALOG: &str = r#"
version: 1
registry: reg.example.dev
images:
  - name: node
    match: [node]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0", entrypoint: [docker-entrypoint.sh], cmd: [node], workdir: /, users: {node: "1000"}}
    hardened: {user: "1000", group: "1000", entrypoint: [/usr/bin/node], cmd: ["--help"], workdir: /home/build, shell: false}
  - name: nginx
    match: [nginx]
    source: test
"#;

pub(crate) fn catalog() -> Catalog {
    crate::rules::test_support::catalog_from_yaml(CATALOG)
}

const MULTI: &str = "\
ARG BASE=node:20
FROM ${BASE} AS deps
RUN npm ci
FROM deps AS build
WORKDIR app
USER node
FROM reg.example.dev/node:20 AS test
FROM scratch AS out
COPY --from=build /app/dist /dist
COPY --from=0 /x /x
FROM debian AS final
RUN --mount=from=test,target=/t true
ENTRYPOINT [\"/bin/app\"]
";

#[test]
fn stages_have_bases_names_and_ranges() {
    let catalog = catalog();
    let file = dockerfile::parse(MULTI).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let names: Vec<Option<&str>> = model.stages.iter().map(|stage| stage.name).collect();
    assert_eq!(
        names,
        [
            Some("deps"),
            Some("build"),
            Some("test"),
            Some("out"),
            Some("final")
        ]
    );
    assert!(
        matches!(&model.stages[0].base, Base::Migrating(m) if m.entry.name == "node" && m.token.text == "node:20")
    );
    assert!(matches!(model.stages[1].base, Base::Stage(0)));
    assert!(matches!(&model.stages[2].base, Base::Hardened { entry, .. } if entry.name == "node"));
    assert!(matches!(model.stages[3].base, Base::Scratch));
    assert!(matches!(model.stages[4].base, Base::Unknown));
    assert_eq!(model.stages[3].copies_from, vec![1, 0]);
    assert_eq!(model.stages[4].copies_from, vec![2]);
    assert_eq!(model.stages[0].body(), 2..3);
    assert_eq!(model.final_stage().map(|stage| stage.index), Some(4));
}

#[test]
fn runnable_stages_are_final_or_unused_leaves() {
    let catalog = catalog();
    let file = dockerfile::parse(MULTI).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let runnable: Vec<usize> = (0..model.stages.len())
        .filter(|&index| model.is_runnable(index))
        .collect();
    assert_eq!(runnable, [3, 4]);
}

#[test]
fn a_base_needs_a_shell_when_a_child_stage_runs_commands() {
    let catalog = catalog();
    let text = "FROM node:20 AS base\nFROM base AS build\nRUN npm ci\nFROM base AS final\nCMD [\"app.js\"]\n";
    let file = dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    assert!(!model.runs_commands(0));
    assert!(model.needs_shell(0));
    assert!(!model.needs_shell(2));
    assert_eq!(
        model.variant(2),
        Variant::Dev,
        "final shares base's filesystem"
    );
    assert_eq!(model.has_shell(2), Some(true));
    assert!(matches!(model.lineage(2), Lineage::Migrating(m) if m.entry.name == "node"));
}

#[test]
fn a_production_stage_has_no_shell_and_unknown_entries_are_unknown() {
    let catalog = catalog();
    let file = dockerfile::parse("FROM node:20\nCMD [\"app.js\"]\nFROM nginx\n").expect("parses");
    let model = StageModel::new(&file, &catalog);
    assert_eq!(model.variant(0), Variant::Production);
    assert_eq!(model.has_shell(0), Some(false));
    assert_eq!(model.has_shell(1), None, "nginx entry states no shell fact");
}

#[test]
fn config_follows_docker_semantics_in_both_views() {
    let catalog = catalog();
    let text = "FROM node:20 AS build\nWORKDIR app\nUSER node\nENV A=1 B=\"two\"\nFROM build\nENTRYPOINT [\"/bin/app\"]\n";
    let file = dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);

    let public = model.config(0, View::Public, None);
    assert_eq!(public.workdir.as_deref(), Some("/app"));
    assert_eq!(public.user.as_deref(), Some("node"));
    assert_eq!(
        public.entrypoint,
        Some(CommandLine::Exec(vec!["docker-entrypoint.sh".into()]))
    );
    assert_eq!(public.cmd, Some(CommandLine::Exec(vec!["node".into()])));
    assert_eq!(
        public.env,
        vec![("A".into(), "1".into()), ("B".into(), "two".into())]
    );

    let hardened = model.config(0, View::Hardened, None);
    assert_eq!(hardened.workdir.as_deref(), Some("/home/build/app"));
    assert_eq!(hardened.cmd, Some(CommandLine::Exec(vec!["--help".into()])));

    let before_user = model.config(0, View::Hardened, Some(2));
    assert_eq!(before_user.user.as_deref(), Some("1000:1000"));

    let child = model.config(1, View::Public, None);
    assert_eq!(
        child.entrypoint,
        Some(CommandLine::Exec(vec!["/bin/app".into()]))
    );
    assert_eq!(
        child.cmd,
        Some(CommandLine::Exec(Vec::new())),
        "ENTRYPOINT resets inherited CMD"
    );
    assert_eq!(
        child.user.as_deref(),
        Some("node"),
        "inherited from the parent stage"
    );
}

#[test]
fn cmd_set_in_the_same_stage_survives_entrypoint_and_shell_form_is_kept() {
    let catalog = catalog();
    let file = dockerfile::parse("FROM node:20\nCMD node app.js\nENTRYPOINT [\"tini\", \"--\"]\n")
        .expect("parses");
    let model = StageModel::new(&file, &catalog);
    let config = model.config(0, View::Hardened, None);
    assert_eq!(config.cmd, Some(CommandLine::Shell("node app.js".into())));
    assert_eq!(
        config.cmd.map(|cmd| cmd.argv()),
        Some(vec!["/bin/sh".into(), "-c".into(), "node app.js".into()])
    );
}

#[test]
fn legacy_env_form_is_one_pair() {
    let catalog = catalog();
    let file =
        dockerfile::parse("FROM scratch\nENV PATH /usr/local/bin:/usr/bin\n").expect("parses");
    let model = StageModel::new(&file, &catalog);
    assert_eq!(
        model.config(0, View::Public, None).env,
        vec![("PATH".into(), "/usr/local/bin:/usr/bin".into())]
    );
}

#[test]
fn users_at_gives_config_users_at_every_point_in_one_pass() {
    let catalog = catalog();
    let text = "FROM node:20 AS a\nRUN x\nUSER node\nRUN y\nFROM a AS b\nRUN z\nUSER 5\nRUN w\nFROM scratch\nRUN v\nFROM b\nRUN u\n";
    let file = dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    // Sorted points, then one out of order (it restarts the stage).
    let points = [(0, 1), (0, 3), (1, 5), (1, 7), (2, 9), (3, 11), (1, 5)];
    for view in [View::Public, View::Hardened] {
        let expected: Vec<Option<String>> = points
            .iter()
            .map(|&(stage, at)| model.config(stage, view, Some(at)).user)
            .collect();
        assert_eq!(model.users_at(view, &points), expected, "{view:?}");
    }
    let hardened = model.users_at(View::Hardened, &points);
    assert_eq!(hardened[0].as_deref(), Some("1000:1000"));
    assert_eq!(hardened[2].as_deref(), Some("node"));
    assert_eq!(hardened[5].as_deref(), Some("5"));
    assert_eq!(hardened[4].as_deref(), Some("0"));
}

#[test]
fn users_at_with_follows_inserted_users_into_child_stages_only() {
    let catalog = catalog();
    // Stage 0 and its child 1; stage 2 stands apart.
    let text = "FROM node:20 AS a\nRUN x\nFROM a AS b\nRUN y\nFROM node:20 AS c\nRUN z\n";
    let file = dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let switches = [UserSwitch {
        at: 1,
        after: true,
        user: "app".into(),
    }];
    let with = |points: &[(usize, usize)]| model.users_at_with(View::Hardened, points, &switches);
    // Before the switch, after it, and in the child stage that inherits it.
    assert_eq!(
        with(&[(0, 1), (1, 3)]),
        [Some("1000:1000".to_owned()), Some("app".to_owned())]
    );
    // Asked alone, the child still walks its parent; the unrelated stage keeps its own user.
    assert_eq!(with(&[(1, 3)]), [Some("app".to_owned())]);
    assert_eq!(with(&[(2, 5)]), [Some("1000:1000".to_owned())]);
}

#[test]
fn the_commands_of_a_run_are_parsed_once_and_are_the_shells_reading() {
    let catalog = catalog();
    let text = "FROM node:20\nRUN apt-get update && sh -c 'useradd app'\nRUN true\n";
    let file = dockerfile::parse(text).expect("parses");
    let model = StageModel::new(&file, &catalog);
    let runs: Vec<&RunInstruction<'_>> = file
        .instructions()
        .iter()
        .filter_map(|instruction| match instruction {
            Instruction::Run(run) => Some(run),
            _ => None,
        })
        .collect();
    let first = model.run_commands(runs[0]);
    assert_eq!(*first, *crate::shell::run::commands(&file, runs[0]));
    assert_eq!(first.len(), 3, "apt-get, sh and the script's useradd");
    assert!(Arc::ptr_eq(&first, &model.run_commands(runs[0])), "cached");
    assert_eq!(model.run_commands(runs[1]).len(), 1, "each RUN its own");
}

#[test]
fn a_working_directory_longer_than_path_max_is_unknown() {
    let catalog = crate::catalog::Catalog::embedded().unwrap();
    let workdir = |repeats: usize| {
        let text = format!("FROM scratch\n{}", "WORKDIR a\n".repeat(repeats));
        let file = crate::dockerfile::parse(&text).unwrap();
        let model = StageModel::new(&file, &catalog);
        model.config(0, View::Public, None).workdir
    };
    // `/a` per line: 2 047 lines make 4 094 bytes; 2 048 make 4 096, one past PATH_MAX's room.
    assert_eq!(workdir(2_047).map(|path| path.len()), Some(4_094));
    // Following every line copied a path as long as the file: quadratic in its length.
    assert_eq!(workdir(2_048), None);
    assert_eq!(workdir(50_000), None);
}

/// A locked image read at the digest of 64 `digit`s, running as `user`.
fn locked(user: &str, digit: char) -> crate::lock::LockedImage {
    crate::lock::LockedImage {
        digest: format!("sha256:{}", digit.to_string().repeat(64)),
        index_digest: None,
        platform: "linux/amd64".into(),
        read: "2026-12-04".into(),
        facts: crate::catalog::ImageSpec {
            user: Some(crate::catalog::Id(user.to_owned())),
            ..Default::default()
        },
    }
}

#[test]
fn a_tag_built_from_arg_defaults_gets_the_locked_facts_of_the_image_they_build() {
    let mut lock = crate::lock::Lock::default();
    lock.images
        .insert("docker.io/library/nginx:1.27".into(), locked("0", '1'));
    lock.images
        .insert("reg.example.dev/nginx:1.27".into(), locked("101", '1'));
    let catalog = catalog().with_lock(&lock);
    let file = dockerfile::parse("ARG V=1.27\nFROM nginx:${V}\n").expect("parses");
    let model = StageModel::new(&file, &catalog);
    let Base::Migrating(migration) = &model.stages[0].base else {
        panic!("{:?}", model.stages[0].base);
    };
    assert_eq!(
        migration
            .entry
            .hardened
            .user
            .as_ref()
            .map(ToString::to_string),
        Some("101".to_owned())
    );
}

#[test]
fn a_digest_the_lock_did_not_read_gets_no_locked_facts_of_its_tag() {
    let mut lock = crate::lock::Lock::default();
    lock.images
        .insert("docker.io/library/nginx:1.27".into(), locked("0", '1'));
    lock.images
        .insert("reg.example.dev/nginx:1.27".into(), locked("101", '2'));
    let catalog = catalog().with_lock(&lock);
    let user_of = |text: &str| {
        let file = dockerfile::parse(text).expect("parses");
        let model = StageModel::new(&file, &catalog);
        let Base::Migrating(migration) = &model.stages[0].base else {
            panic!("{:?}", model.stages[0].base);
        };
        migration
            .entry
            .hardened
            .user
            .as_ref()
            .map(ToString::to_string)
    };
    let read = format!("FROM nginx:1.27@sha256:{}\n", "1".repeat(64));
    assert_eq!(user_of(&read), Some("101".to_owned()));
    // Another build of the tag: the lock says nothing about it.
    let other = format!("FROM nginx:1.27@sha256:{}\n", "9".repeat(64));
    assert_eq!(user_of(&other), None);
}
