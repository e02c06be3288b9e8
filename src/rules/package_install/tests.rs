use parse_dockerfile::Instruction;

use super::convert::shown;
use crate::dockerfile;
use crate::rules::test_support::{has, run_with_catalog};
use crate::shell;

/// A replacement whose -dev variant has apk with Wolfi names, and a package table of test
/// data (not facts).
const CATALOG: &str = r#"
version: 1
registry: reg.example.dev
images:
  - name: python
    match: [python, fedora]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0"}
    hardened: {user: "0", package_manager: apk, distribution: wolfi}
  - name: node
    match: [node]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0"}
    hardened: {user: "1000", package_manager: apk, distribution: wolfi}
  - name: ruby
    match: [ruby]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0"}
    hardened: {user: "0", package_manager: apk}
  - name: base
    match: [ubuntu]
    tag: latest
    dev_tag_suffix: "-dev"
    source: test
    hardened: {package_manager: apk, distribution: wolfi}
packages:
  wolfi:
    debian:
      curl: {names: [curl], source: test}
      git: {names: [git], source: test}
      libpq5: {names: [libpq], source: test}
      libpq-dev: {names: [postgresql-dev], source: test}
      g++: {names: [gcc], source: test}
      gcc: {names: [gcc], source: test}
      ssh: {names: [openssh-client, openssh-server], source: test}
      software-properties-common: {names: [], source: test}
      apt-transport-https: {names: [], source: test}
    fedora:
      httpd: {names: [apache2], source: test}
      php: {names: [php], source: test}
"#;

fn run(text: &str) -> (String, Vec<String>) {
    let (once, messages) = run_with_catalog(CATALOG, text);
    let (twice, _) = run_with_catalog(CATALOG, &once);
    assert_eq!(twice, once, "a second run changes nothing");
    (once, messages)
}

/// What each `RUN` of `text` executes, one argv (words joined by spaces) per command: what the
/// build runs, as the shell reader splits it.
fn executed(text: &str) -> Vec<Vec<String>> {
    let file = dockerfile::parse(text).expect("the result parses");
    file.instructions()
        .iter()
        .filter_map(|instruction| match instruction {
            Instruction::Run(run) => {
                Some(shell::run::commands(&file, run).iter().map(shown).collect())
            }
            _ => None,
        })
        .collect()
}

/// The `rule: message` lines of `rule`.
fn of_rule<'m>(messages: &'m [String], rule: &str) -> Vec<&'m String> {
    let prefix = format!("{rule}:");
    messages
        .iter()
        .filter(|message| message.starts_with(&prefix))
        .collect()
}

#[test]
fn an_apt_chain_becomes_one_apk_add_with_the_mapped_names() {
    let input = "FROM python:3.12\n\
                 RUN apt-get update \\\n    \
                 && apt-get install --assume-yes --no-install-recommends \\\n        \
                 curl \\\n        libpq5 \\\n        git \\\n    \
                 && rm -rf /var/lib/apt/lists/*\n";
    let (output, messages) = run(input);
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\n\
         RUN apk add --no-cache \\\n        curl \\\n        libpq \\\n        git\n"
    );
    assert_eq!(
        executed(&output),
        [["apk add --no-cache curl libpq git"]],
        "the build runs one apk add of the mapped packages"
    );
    assert!(
        messages.iter().any(|message| message
            == "package-install: `apt-get install` → `apk add --no-cache`; wolfi package names: libpq5 → libpq; dropped `apt-get update`, `rm -rf /var/lib/apt/lists/*` (packages for reg.example.dev/python install with apk)"),
        "{messages:?}"
    );
    assert!(!has(&messages, "package-manager"), "{messages:?}");
}

#[test]
fn other_commands_of_the_run_stay_in_their_order() {
    let (output, _) = run(
        "FROM python:3.12\nRUN echo one && apt-get update -qq && apt-get install -y curl && pip install -r req.txt && apt-get clean\n",
    );
    assert_eq!(
        executed(&output),
        [[
            "echo one",
            "apk add --no-cache curl",
            "pip install -r req.txt"
        ]]
    );
}

#[test]
fn removals_become_apk_del_and_duplicates_are_written_once() {
    let (output, _) = run(
        "FROM python:3.12\nRUN apt-get install -y g++ gcc libpq-dev && pip install psycopg && apt-get purge -y --auto-remove g++ gcc libpq-dev\n",
    );
    assert_eq!(
        executed(&output),
        [[
            "apk add --no-cache gcc postgresql-dev",
            "pip install psycopg",
            "apk del gcc postgresql-dev"
        ]]
    );
}

#[test]
fn yum_dnf_and_microdnf_with_flags_before_the_verb_convert() {
    let (output, _) = run("FROM fedora:40\n\
         RUN yum update -y && yum -y install httpd php && yum clean all && rm -rf /var/cache/yum/*\n\
         RUN microdnf --setopt=install_weak_deps=0 --nodocs install -y php && microdnf clean all\n");
    assert_eq!(
        executed(&output),
        [
            vec!["apk upgrade --no-cache", "apk add --no-cache apache2 php"],
            vec!["apk add --no-cache php"]
        ]
    );
}

#[test]
fn a_package_that_maps_to_several_or_to_nothing_is_written_so() {
    let (output, _) = run(
        "FROM python:3.12\nRUN apt-get install -y apt-transport-https ssh git\nRUN apt-get update && apt-get install -y software-properties-common\n",
    );
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN apk add --no-cache openssh-client openssh-server git\n"
    );
}

#[test]
fn a_mixed_rm_keeps_its_other_paths() {
    let (output, _) = run(
        "FROM python:3.12\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/* /tmp/build\n",
    );
    assert_eq!(
        executed(&output),
        [["apk add --no-cache curl", "rm -rf /tmp/build"]]
    );
}

#[test]
fn an_unmapped_package_keeps_the_run_and_is_named() {
    let input = "FROM python:3.12\nRUN apt-get update && apt-get install -y curl libfoo1\n";
    let (output, messages) = run(input);
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN apt-get update && apt-get install -y curl libfoo1\n"
    );
    let warning = messages
        .iter()
        .find(|message| message.starts_with("package-manager"))
        .expect("a warning");
    assert!(
        warning.contains("`libfoo1` has no entry in hardport's wolfi package map"),
        "{warning}"
    );
    assert!(!has(&messages, "package-install"), "{messages:?}");
}

#[test]
fn pins_variables_options_and_other_tooling_keep_the_run() {
    let cases = [
        ("apt-get install -y curl=7.88.1-10", "pins a version"),
        ("yum install -y httpd-2.4.57", "pins a version"),
        (
            "apt-get install -y -t bookworm-backports curl",
            "option `-t`",
        ),
        ("apt-get install -y $PACKAGES", "a variable or a pattern"),
        (
            "apt-get install -y curl/bookworm-backports",
            "names a release",
        ),
        (
            "apt-get update && apt-get install -y --no-install-recommends curl && apt-key add key.asc",
            "`apt-key`",
        ),
        (
            "echo deb http://x bookworm main > /etc/apt/sources.list.d/x.list && apt-get install -y curl",
            "writes `/etc/apt/sources.list.d/x.list`",
        ),
        (
            "apt-get update || true && apt-get install -y curl",
            "cannot be taken out",
        ),
        (
            "apt-get source curl",
            "`apt-get source` has no apk equivalent",
        ),
        (
            "echo curl | xargs apt-get install -y",
            "names no packages here",
        ),
        ("sh -c 'apt-get install -y curl'", "nested shell script"),
    ];
    for (run_line, reason) in cases {
        let input = format!("FROM python:3.12\nRUN {run_line}\n");
        let (output, messages) = run(&input);
        assert_eq!(
            output,
            format!("FROM reg.example.dev/python:3.12-dev\nRUN {run_line}\n"),
            "{run_line}: the RUN is kept"
        );
        assert!(
            messages
                .iter()
                .any(|message| message.starts_with("package-manager") && message.contains(reason)),
            "{run_line}: {messages:?}"
        );
    }
    let exec = "FROM python:3.12\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n";
    let (output, messages) = run(exec);
    assert!(output.ends_with("RUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n"));
    assert!(
        messages.iter().any(|m| m.contains("exec form")),
        "{messages:?}"
    );
}

#[test]
fn a_heredoc_script_converts_line_by_line() {
    let input = "FROM python:3.12\nRUN <<EOF\napt-get update\napt-get install -y curl\n# tidy\nrm -rf /var/lib/apt/lists/*\nEOF\n";
    let (output, _) = run(input);
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN <<EOF\napk add --no-cache curl\nEOF\n"
    );
}

#[test]
fn assignments_and_sudo_before_the_manager_stay() {
    let (output, _) =
        run("FROM python:3.12\nRUN DEBIAN_FRONTEND=noninteractive sudo apt-get install -y curl\n");
    assert_eq!(
        executed(&output),
        [["DEBIAN_FRONTEND=noninteractive sudo apk add --no-cache curl"]]
    );
}

#[test]
fn a_non_root_replacement_runs_the_converted_install_as_root() {
    let (output, _) =
        run("FROM node:20\nRUN apt-get update && apt-get install -y git\nCMD [\"app.js\"]\n");
    assert_eq!(
        output,
        "FROM reg.example.dev/node:20-dev\nUSER root\nRUN apk add --no-cache git\nUSER 1000\nCMD [\"app.js\"]\n"
    );
}

#[test]
fn without_a_known_distribution_nothing_is_converted_and_the_old_warning_stays() {
    let (output, messages) = run("FROM ruby:3.3\nRUN apt-get install -y git\n");
    assert!(output.ends_with("RUN apt-get install -y git\n"), "{output}");
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("package-manager")
                && message.contains("has apk, not `apt-get`")),
        "{messages:?}"
    );
}

#[test]
fn a_dropped_last_package_takes_its_line_continuation_with_it() {
    // `gcc` repeats what `g++` became; removed as the last word, it must not leave a `\` that
    // would join the next instruction into the RUN.
    let input = "FROM python:3.12\nRUN apt-get install -y \\\n    g++ \\\n    gcc\nCOPY . /src\n";
    let (output, _) = run(input);
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN apk add --no-cache \\\n    gcc\nCOPY . /src\n"
    );
    let (output, _) =
        run("FROM python:3.12\nRUN apt-get install -y \\\n    g++ \\\n    gcc \\\n    git\n");
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN apk add --no-cache \\\n    gcc \\\n    git\n"
    );
    assert_eq!(executed(&output), [["apk add --no-cache gcc git"]]);
}

#[test]
fn useradd_and_groupadd_become_busybox_adduser_and_addgroup() {
    let (output, messages) = run(
        "FROM python:3.12\nRUN groupadd -r -g 10001 app && useradd -r -u 10001 -g app -ms /bin/bash -c 'App user' app && chown -R app /srv\n",
    );
    assert_eq!(
        executed(&output),
        [[
            "addgroup -S -g 10001 app",
            "adduser -D -S -u 10001 -G app -s /bin/bash -g App user app",
            "chown -R app /srv"
        ]]
    );
    assert!(
        output.contains("-g 'App user' app"),
        "the value keeps its quotes: {output}"
    );
    assert!(
        messages
            .iter()
            .any(|message| message
                .contains("`groupadd -r -g 10001 app` → `addgroup -S -g 10001 app`")),
        "{messages:?}"
    );
    let (output, _) =
        run("FROM python:3.12\nRUN useradd --system --no-create-home --shell=/sbin/nologin svc\n");
    assert_eq!(
        executed(&output),
        [["adduser -D -S -H -s /sbin/nologin svc"]]
    );
}

#[test]
fn an_account_option_busybox_lacks_keeps_the_run() {
    for line in [
        "useradd -G wheel,docker dev",
        "groupadd -f app",
        "useradd -o -u 0 admin",
    ] {
        let input = format!("FROM python:3.12\nRUN {line}\n");
        let (output, messages) = run(&input);
        assert!(
            output.ends_with(&format!("RUN {line}\n")),
            "{line}: {output}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("package-manager") && m.contains("no busybox equivalent")),
            "{line}: {messages:?}"
        );
    }
}

#[test]
fn a_converted_run_whose_user_no_catalog_states_is_a_missing_fact() {
    // Neither image's user is known: whether the RUN still runs as root is unknown, and that
    // is said, not guessed.
    let (output, messages) = run("FROM ubuntu:22.04\nRUN apt-get install -y curl\n");
    assert!(
        output.ends_with("RUN apk add --no-cache curl\n"),
        "{output}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("missing-fact")
            && m.contains("the replacement states no user either")),
        "{messages:?}"
    );
}

#[test]
fn a_dropped_command_after_then_keeps_the_then_and_an_emptied_block_keeps_the_run() {
    let input = "FROM python:3.12\nRUN if [ -n \"$GPU\" ]; then apt-get update && apt-get install -y curl; fi\n";
    let (output, _) = run(input);
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN if [ -n \"$GPU\" ]; then apk add --no-cache curl; fi\n"
    );
    let input = "FROM python:3.12\nRUN apt-get install -y curl && if [ -d /var/lib/apt ]; then apt-get clean; fi\n";
    let (output, messages) = run(input);
    assert!(output.ends_with("then apt-get clean; fi\n"), "{output}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("would leave its block empty")),
        "{messages:?}"
    );
    let (output, messages) =
        run("FROM python:3.12\nRUN if apt-get update; then apt-get install -y curl; fi\n");
    assert!(output.ends_with("RUN if apt-get update; then apt-get install -y curl; fi\n"));
    assert!(
        messages.iter().any(|m| m.contains("is a condition")),
        "{messages:?}"
    );
}

#[test]
fn comments_between_a_dropped_command_and_the_next_stay() {
    let input = "FROM python:3.12\nRUN apt-get update --yes && \\\n    # upgrade to patch known vulnerabilities\n    apt-get upgrade --yes && \\\n    apt-get install --yes curl\n";
    let (output, _) = run(input);
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN \\\n    # upgrade to patch known vulnerabilities\n    apk upgrade --no-cache && \\\n    apk add --no-cache curl\n"
    );
    assert_eq!(
        executed(&output),
        [["apk upgrade --no-cache", "apk add --no-cache curl"]]
    );
}

#[test]
fn substitutions_downloaded_scripts_and_source_edits_keep_the_run() {
    let cases = [
        (
            "apt-get install -y curl `# the client` git",
            "a command substitution stands in the package list",
        ),
        (
            "curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs",
            "pipes a downloaded script into `bash`",
        ),
        (
            "echo deb https://pkg.example.com bookworm main | tee /etc/apt/sources.list.d/x.list && apt-get update && apt-get install -y curl",
            "changes `/etc/apt/sources.list.d/x.list`",
        ),
    ];
    for (line, reason) in cases {
        let (output, messages) = run(&format!("FROM python:3.12\nRUN {line}\n"));
        assert!(
            output.ends_with(&format!("RUN {line}\n")),
            "{line}: {output}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("package-manager") && m.contains(reason)),
            "{line}: {messages:?}"
        );
    }
}

#[test]
fn every_unmapped_package_of_a_command_is_named_at_once() {
    let (_, messages) = run("FROM python:3.12\nRUN apt-get install -y curl libfoo1 libbar2 git\n");
    assert!(
        messages
            .iter()
            .any(|m| m
                .contains("`libfoo1`, `libbar2` have no entry in hardport's wolfi package map")),
        "{messages:?}"
    );
}

#[test]
fn backquotes_in_comment_lines_are_no_substitution() {
    let input = "FROM python:3.12\nRUN apt-get update --yes && \\\n    # - `apt-get upgrade` patches known vulnerabilities\n    apt-get upgrade --yes && \\\n    apt-get install --yes \\\n    curl \\\n    # - `git` for pip installs from repositories\n    git && \\\n    apt-get clean\n";
    let (output, messages) = run(input);
    assert!(!has(&messages, "package-manager"), "{messages:?}");
    assert_eq!(
        executed(&output),
        [["apk upgrade --no-cache", "apk add --no-cache curl git"]]
    );
}

#[test]
fn a_gnu_only_tar_option_is_reported_and_busybox_options_are_not() {
    let (_, messages) = run(
        "FROM python:3.12\nRUN tar --transform 's/^a/b/' -xzf a.tgz && tar xzf b.tgz -C /opt --strip=1 && tar -cJf c.txz --exclude=.git src\n",
    );
    let warnings = of_rule(&messages, "busybox-option");
    assert_eq!(warnings.len(), 1, "{messages:?}");
    assert!(
        warnings[0].contains("`tar` is given `--transform`"),
        "{warnings:?}"
    );
    let (_, messages) = run("FROM python:3.12\nRUN tar -I zstd -xf a.tar.zst\n");
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("busybox-option") && m.contains("`-I`")),
        "{messages:?}"
    );
    let (_, messages) = run("FROM ruby:3.3\nRUN tar --transform x -xf a.tar\n");
    assert!(
        !has(&messages, "busybox-option"),
        "no apk target: {messages:?}"
    );
}

#[test]
fn a_gnu_only_sed_option_is_reported() {
    let (_, messages) = run(
        "FROM python:3.12\nRUN sed -i.bak -E 's/a/b/' f && sed -z 's/\\n/ /g' g && sed --follow-symlinks -i 's/x/y/' h\n",
    );
    let warnings = of_rule(&messages, "busybox-option");
    assert_eq!(warnings.len(), 2, "{messages:?}");
    assert!(warnings[0].contains("`sed` is given `-z`"), "{warnings:?}");
    assert!(warnings[1].contains("`--follow-symlinks`"), "{warnings:?}");
}

#[test]
fn review_findings_comments_wrappers_numeric_groups_and_a_removed_run() {
    // `;` inside a comment is no join, and the comment stays.
    let (output, _) = run(
        "FROM python:3.12\nRUN <<EOT\napt-get update # refresh; lists\napt-get install -y git\nEOT\n",
    );
    assert_eq!(executed(&output), [["apk add --no-cache git"]], "{output}");
    // A comment before the join: the command goes, then the join, the comment stays.
    let (output, _) = run(
        "FROM python:3.12\nRUN apt-get update \\\n    # refresh the lists, then install\n    && apt-get install -y git\n",
    );
    assert_eq!(
        output,
        "FROM reg.example.dev/python:3.12-dev\nRUN  \\\n    # refresh the lists, then install\n    apk add --no-cache git\n"
    );
    // apt-get run through a program hardport does not know keeps the RUN, and says so.
    let (output, messages) = run(
        "FROM python:3.12\nRUN apt-get update && eatmydata apt-get install -y git && apt-get clean\n",
    );
    assert!(
        output
            .ends_with("RUN apt-get update && eatmydata apt-get install -y git && apt-get clean\n")
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("it runs `apt-get` through `eatmydata`")),
        "{messages:?}"
    );
    // BusyBox's adduser -G takes a group name.
    let (output, messages) = run("FROM python:3.12\nRUN useradd -u 1000 -g 1000 app\n");
    assert!(output.ends_with("RUN useradd -u 1000 -g 1000 app\n"));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("names its group `1000` by number")),
        "{messages:?}"
    );
    // A RUN that goes gets no USER root around it.
    let (output, _) =
        run("FROM node:20\nRUN apt-get update && apt-get clean\nCOPY . /app\nCMD [\"app.js\"]\n");
    assert!(!output.contains("USER"), "{output}");
}

#[test]
fn debians_adduser_options_busybox_lacks_are_reported() {
    let (_, messages) = run(
        "FROM python:3.12\nRUN adduser --disabled-password --gecos \"\" app && adduser --system --group --quiet svc\n",
    );
    let warnings = of_rule(&messages, "busybox-option");
    assert_eq!(warnings.len(), 1, "{messages:?}");
    assert!(
        warnings[0].contains("`adduser` is given `--group`, `--quiet`"),
        "{warnings:?}"
    );
}

#[test]
fn a_useradd_without_m_creates_no_home_and_shadow_only_tools_keep_the_run() {
    // mealie: `useradd -d $HOME …` then `mkdir $HOME`: BusyBox must not create the home first.
    let (output, _) =
        run("FROM python:3.12\nRUN useradd -u 911 -U -d /app -s /bin/bash abc && mkdir /app\n");
    assert_eq!(
        executed(&output),
        [[
            "adduser -D -u 911 -h /app -s /bin/bash -H abc",
            "mkdir /app"
        ]]
    );
    let line = "useradd -u 911 abc && usermod -G users abc";
    let (output, messages) = run(&format!("FROM python:3.12\nRUN {line}\n"));
    assert!(output.ends_with(&format!("RUN {line}\n")), "{output}");
    assert!(
        messages.iter().any(|m| m.contains("it runs `usermod`")),
        "{messages:?}"
    );
}
