use parse_dockerfile::{Instruction, Source};

use super::paths::{RangeSet, absolute_words, expand, mention, rewrite_literal};
use super::walker::Scope;
use crate::dockerfile;
use crate::rules::test_support::{TEST_CATALOG, run};
use crate::unix_path::{clean_absolute, under};

/// Messages of this module's rules.
fn ours(messages: &[String]) -> Vec<&str> {
    messages
        .iter()
        .map(String::as_str)
        .filter(|m| {
            m.starts_with("workdir:")
                || m.starts_with("data-path:")
                // The entrypoint rule's missing facts are its own.
                || (m.starts_with("missing-fact:") && !m.contains("sets no ENTRYPOINT or CMD"))
        })
        .collect()
}

/// Migrate with the test catalog plus `extra` image entries (YAML list items).
fn run_with(extra: &str, text: &str) -> (String, Vec<String>) {
    crate::rules::test_support::run_with_catalog(&format!("{TEST_CATALOG}{extra}"), text)
}

/// The second run changes nothing and says nothing about paths.
fn assert_idempotent(migrated: &str) {
    let (again, messages) = run(migrated);
    assert_eq!(again, migrated);
    assert!(
        !messages
            .iter()
            .any(|m| m.starts_with("workdir:") || m.starts_with("data-path:")),
        "{messages:?}"
    );
}

/// Every `COPY --from=<stage> <source>` names a path that stage (or a stage it is built on)
/// created: a `WORKDIR` or a `COPY`/`ADD` destination, relative ones resolved against the
/// working directory (`default_workdir` until the chain sets one).
fn assert_copies_resolve(text: &str, default_workdir: &str) {
    let file = dockerfile::parse(text).expect("parses");
    let mut names: Vec<Option<String>> = Vec::new();
    let mut produced: Vec<Vec<String>> = Vec::new();
    let mut cwd = String::new();
    for instruction in file.instructions() {
        match instruction {
            Instruction::From(from) => {
                let image = from.image.value.to_ascii_lowercase();
                let parent = names
                    .iter()
                    .position(|name| name.as_deref() == Some(&image));
                let (start, paths) = match parent {
                    Some(parent) => (produced[parent][0].clone(), produced[parent].clone()),
                    None => (default_workdir.to_owned(), vec![default_workdir.to_owned()]),
                };
                cwd = start;
                let mut paths = paths;
                paths.insert(0, cwd.clone());
                produced.push(paths);
                names.push(from.as_.as_ref().map(|(_, n)| n.value.to_ascii_lowercase()));
            }
            Instruction::Workdir(workdir) => {
                let value = workdir.arguments.value.as_ref();
                cwd = match value.starts_with('/') {
                    true => value.to_owned(),
                    false => format!("{cwd}/{value}"),
                };
                cwd = clean_absolute(&cwd).expect("absolute");
                let stage = produced.last_mut().expect("stage");
                stage[0] = cwd.clone();
                stage.push(cwd.clone());
            }
            Instruction::Copy(copy) => {
                let dest = copy.dest.value.as_ref();
                let dest = match dest.starts_with('/') {
                    true => dest.to_owned(),
                    false => format!("{cwd}/{dest}"),
                };
                let dest = clean_absolute(&dest).expect("absolute");
                if let Some(from) = copy
                    .options
                    .iter()
                    .find(|flag| flag.name.value == "from")
                    .and_then(|flag| flag.value.as_ref())
                {
                    let from = from.value.to_ascii_lowercase();
                    let index = names
                        .iter()
                        .position(|name| name.as_deref() == Some(&from))
                        .expect("stage");
                    for source in &copy.src {
                        let Source::Path(path) = source else { continue };
                        let path = clean_absolute(&format!("/{}", path.value)).expect("path");
                        assert!(
                            produced[index]
                                .iter()
                                .any(|made| under(&path, made).is_some()),
                            "COPY --from={from} {path}: stage made only {:?}",
                            produced[index]
                        );
                    }
                }
                produced.last_mut().expect("stage").push(dest);
            }
            _ => {}
        }
    }
}

const NODE_BUILD: &str = "\
FROM builder:20 AS build
WORKDIR /app
ENV APP_DIR=/app NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM nginx:1.27
COPY --from=build /app/dist /usr/share/nginx/html
";

#[test]
fn an_unwritable_workdir_moves_with_env_and_copy_from_sources() {
    let (fixed, messages) = run(NODE_BUILD);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/builder:20-dev AS build
WORKDIR /home/build
ENV APP_DIR=/home/build NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM reg.example.dev/nginx:1.27
COPY --from=build /home/build/dist /usr/share/nginx/html
"
    );
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `build` runs RUN steps as user 1000:1000 after `WORKDIR /app`, which that user may not be able to write on builder's replacement: moved it to /home/build, the replacement's working directory, with every path under it (line 2: `/app` → `/home/build`, line 3: `/app` → `/home/build`, line 10: `/app/dist` → `/home/build/dist`)"
        ]
    );
    // Before: the source names what `build` made in /app; after: in /home/build.
    assert_copies_resolve(NODE_BUILD, "/");
    assert_copies_resolve(&fixed, "/home/build");
    assert_idempotent(&fixed);
}

#[test]
fn an_arg_driven_from_is_migrated_too() {
    let text = "ARG BASE=builder:20\nFROM ${BASE} AS build\nWORKDIR /app\nRUN npm ci\nFROM scratch\nCOPY --from=build /app/dist /\n";
    let (fixed, _) = run(text);
    assert_eq!(
        fixed,
        "ARG BASE=reg.example.dev/builder:20-dev\nFROM ${BASE} AS build\nWORKDIR /home/build\nRUN npm ci\nFROM scratch\nCOPY --from=build /home/build/dist /\n"
    );
    assert_idempotent(&fixed);
}

#[test]
fn crlf_and_lowercase_keywords_keep_their_bytes() {
    let text = NODE_BUILD
        .replace('\n', "\r\n")
        .replace("FROM", "from")
        .replace("WORKDIR", "workdir");
    let (fixed, _) = run(&text);
    assert!(
        fixed.contains("workdir /home/build\r\nENV APP_DIR=/home/build NODE_ENV=production\r\n"),
        "{fixed:?}"
    );
    assert!(
        fixed.ends_with("COPY --from=build /home/build/dist /usr/share/nginx/html\r\n"),
        "{fixed:?}"
    );
    assert_eq!(fixed.matches('\n').count(), fixed.matches("\r\n").count());
    assert_idempotent(&fixed);
}

#[test]
fn paths_under_the_workdir_move_in_every_form() {
    let text = "\
FROM builder:20 AS base
COPY --chown=builder:builder config.json /app/config/
WORKDIR /app
ENV PATH=/app/node_modules/.bin:$PATH
ENV LEGACY /app/lib
VOLUME [\"/app/cache\"]
FROM base AS build
WORKDIR server
RUN --mount=type=cache,target=/app/.npm npm ci
WORKDIR /app/web
COPY <<EOF /app/web/settings.js
module.exports = {}
EOF
RUN npm run build
FROM nginx:1.27
COPY --from=build app/web/dist /srv/web
COPY --from=build ./app/config /etc/app
";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/builder:20-dev AS base
COPY --chown=1000:1000 config.json /home/build/config/
WORKDIR /home/build
ENV PATH=/home/build/node_modules/.bin:$PATH
ENV LEGACY /home/build/lib
VOLUME [\"/home/build/cache\"]
FROM base AS build
WORKDIR server
RUN --mount=type=cache,target=/home/build/.npm npm ci
WORKDIR /home/build/web
COPY <<EOF /home/build/web/settings.js
module.exports = {}
EOF
RUN npm run build
FROM reg.example.dev/nginx:1.27
COPY --from=build home/build/web/dist /srv/web
COPY --from=build ./home/build/config /etc/app
",
        "{messages:#?}"
    );
    assert_idempotent(&fixed);
}

#[test]
fn a_workdir_through_an_env_variable_moves_by_its_env_value() {
    let text = "\
FROM builder:20 AS build
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY . ${APP_HOME}/
RUN npm ci
";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/builder:20-dev AS build
ENV APP_HOME=/home/build
WORKDIR $APP_HOME
COPY . ${APP_HOME}/
RUN npm ci
",
        "{messages:#?}"
    );
    assert_idempotent(&fixed);
}

#[test]
fn a_variable_the_move_cannot_follow_blocks_the_whole_move() {
    let text = "\
FROM builder:20 AS build
ARG OUT=/app/out
WORKDIR /app
RUN npm ci
COPY . $HOME/app
";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        text.replace("FROM builder:20", "FROM reg.example.dev/builder:20-dev")
    );
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `build` runs RUN steps as user 1000:1000 after `WORKDIR /app`, which that user may not be able to write on builder's replacement, but hardport cannot move it to /home/build: line 2: ARG names /app, and hardport does not rewrite it there; line 5: hardport cannot tell where `$HOME/app` points: move it by hand"
        ]
    );
}

#[test]
fn commands_naming_the_workdir_block_the_move() {
    let text = "\
FROM builder:20
RUN mkdir /app && chown 1000 /app
WORKDIR /app
RUN <<EOF
npm ci --prefix /app/server
EOF
CMD [\"node\", \"/app/server.js\"]
";
    let (fixed, messages) = run(text);
    assert!(fixed.contains("WORKDIR /app\n"), "{fixed}");
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage #0 runs RUN steps as user 1000:1000 after `WORKDIR /app`, which that user may not be able to write on builder's replacement, but hardport cannot move it to /home/build: line 2: RUN names /app, and hardport does not rewrite it there; line 5: RUN names /app, and hardport does not rewrite it there; line 7: CMD names /app, and hardport does not rewrite it there: move it by hand"
        ]
    );
}

#[test]
fn similar_names_are_not_the_moved_directory() {
    let text = "\
FROM builder:20 AS build
WORKDIR /app
RUN npm ci && cp -r /application/x $HOME/app /apps
COPY --from=build /application /application
";
    let (fixed, messages) = run(text);
    assert!(
        fixed.contains("WORKDIR /home/build\n"),
        "{fixed}\n{messages:#?}"
    );
    assert!(fixed.contains("COPY --from=build /application /application\n"));
}

#[test]
fn writable_and_root_workdirs_are_left_alone() {
    for text in [
        "FROM builder:20 AS build\nWORKDIR /home/build/app\nRUN npm ci\n",
        "FROM builder:20 AS build\nWORKDIR /tmp/app\nRUN npm ci\n",
        // The Dockerfile runs the steps as root itself.
        "FROM builder:20 AS build\nUSER root\nWORKDIR /app\nRUN npm ci\n",
        // The Dockerfile picks the user itself: the same on both images.
        "FROM builder:20 AS build\nUSER 1000\nWORKDIR /app\nRUN npm ci\n",
        // No RUN after the WORKDIR: nothing writes there as the non-root user.
        "FROM builder:20\nRUN npm -v\nWORKDIR /app\nCOPY . .\nCMD [\"app.js\"]\n",
    ] {
        let (fixed, messages) = run(text);
        assert!(
            fixed.contains(text.lines().nth(1).unwrap_or_default()),
            "{fixed}"
        );
        assert!(ours(&messages).is_empty(), "{messages:#?}");
    }
}

#[test]
fn directories_software_finds_by_path_are_reported_not_moved() {
    let text = "\
FROM builder:20 AS build
WORKDIR /usr/share/nginx/html
RUN npm ci
";
    let (fixed, messages) = run(text);
    assert!(fixed.contains("WORKDIR /usr/share/nginx/html\n"), "{fixed}");
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `build` runs RUN steps as user 1000:1000 after `WORKDIR /usr/share/nginx/html`, which that user may not be able to write on builder's replacement; hardport does not move a directory under /usr/share, where software finds files by path: let the user write it (run that step as root, or `COPY --chown`) or move it by hand"
        ]
    );
    let extra = "  - name: site\n    match: [example/site]\n    dev_tag_suffix: \"-dev\"\n    source: test\n    public: {user: \"999\", workdir: /srv/site, volumes: [/data]}\n    hardened: {user: \"1000\", workdir: /home/build}\n";
    let (fixed, messages) = run_with(
        extra,
        "FROM example/site:1\nWORKDIR /srv/site/www\nRUN make\nWORKDIR /data/cache\nRUN make\n",
    );
    assert!(fixed.contains("WORKDIR /srv/site/www\n") && fixed.contains("WORKDIR /data/cache\n"));
    let messages = ours(&messages);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages[0].contains("hardport does not move site's own working directory (/srv/site)")
    );
    assert!(messages[1].contains("hardport does not move site's volume /data"));
}

#[test]
fn a_root_replacement_keeps_its_workdir() {
    // go's replacement runs as root (hardened user 0).
    let text = "FROM golang:1.22 AS build\nWORKDIR /app\nCOPY . .\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\n";
    let (fixed, messages) = run(text);
    assert!(fixed.contains("WORKDIR /app\n"), "{fixed}");
    assert!(ours(&messages).is_empty(), "{messages:#?}");
}

#[test]
fn the_outermost_workdir_moves_and_a_second_tree_is_reported() {
    let text = "\
FROM builder:20 AS build
WORKDIR /app/server
RUN npm ci
WORKDIR /app
RUN npm test
WORKDIR /srv
RUN npm pack
";
    let (fixed, messages) = run(text);
    assert!(
        fixed.contains("WORKDIR /home/build/server\nRUN npm ci\nWORKDIR /home/build\n"),
        "{fixed}"
    );
    assert!(fixed.contains("WORKDIR /srv\n"), "{fixed}");
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `build` runs RUN steps as user 1000:1000 after `WORKDIR /app`, which that user may not be able to write on builder's replacement: moved it to /home/build, the replacement's working directory, with every path under it (line 2: `/app/server` → `/home/build/server`, line 4: `/app` → `/home/build`)",
            "workdir: stage `build` also runs RUN steps as user 1000:1000 after `WORKDIR /srv`, which that user may not be able to write on builder's replacement; hardport moves one directory per stage family (/app → /home/build): move this one by hand",
        ]
    );
}

#[test]
fn an_unknown_hardened_workdir_is_a_missing_fact() {
    // web's public image runs as 101, its replacement as 1000 in an unknown workdir.
    let extra = "  - name: web\n    match: [example/web]\n    dev_tag_suffix: \"-dev\"\n    source: test\n    public: {user: \"101\", workdir: /}\n    hardened: {user: \"1000\"}\n";
    let text = "FROM example/web:1\nWORKDIR /app\nRUN echo hi > index.html\n";
    let (fixed, messages) = run_with(extra, text);
    assert!(fixed.contains("WORKDIR /app\n"), "{fixed}");
    assert!(
        ours(&messages).contains(
            &"missing-fact: stage #0 runs RUN steps as user 1000 after `WORKDIR /app`, which that user may not be able to write on web's replacement; to move it hardport needs the replacement's working directory: add `hardened.workdir` to catalog entry `web` (or supply the image's OCI config)"
        ),
        "{messages:#?}"
    );
}

const OPENJDK_BUILD: &str = "\
FROM eclipse-temurin:21 AS build
COPY gradlew build.gradle ./
COPY src src
RUN ./gradlew build
FROM eclipse-temurin:21
COPY --from=build /build/libs/app.jar /app.jar
COPY --from=build /src/main/resources/banner.txt /banner.txt
COPY --from=build /opt/java/openjdk/lib/security/cacerts /cacerts
ENTRYPOINT [\"java\", \"-jar\", \"/app.jar\"]
";

#[test]
fn sources_written_relative_to_the_default_workdir_follow_it() {
    let (fixed, messages) = run(OPENJDK_BUILD);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/openjdk:21-dev AS build
COPY gradlew build.gradle ./
COPY src src
USER root
RUN ./gradlew build
FROM reg.example.dev/openjdk:21
COPY --from=build /home/build/build/libs/app.jar /app.jar
COPY --from=build /home/build/src/main/resources/banner.txt /banner.txt
COPY --from=build /opt/java/openjdk/lib/security/cacerts /cacerts
ENTRYPOINT [\"java\", \"-jar\", \"/app.jar\"]
"
    );
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `build` wrote relative paths into the working directory, which is /home/build on openjdk's replacement instead of /: sources copied from there follow (line 6: `/build/libs/app.jar` → `/home/build/build/libs/app.jar`, line 7: `/src/main/resources/banner.txt` → `/home/build/src/main/resources/banner.txt`)"
        ]
    );
    assert_idempotent(&fixed);
}

#[test]
fn an_absolute_command_path_to_a_relative_write_is_reported() {
    let text = "\
FROM eclipse-temurin:21
COPY target/app.jar app.jar
ENTRYPOINT [\"java\", \"-jar\", \"/app.jar\"]
";
    let (fixed, messages) = run(text);
    assert!(fixed.ends_with("ENTRYPOINT [\"java\", \"-jar\", \"/app.jar\"]\n"));
    assert_eq!(
        ours(&messages),
        [
            "workdir: ENTRYPOINT names /app.jar, which stage #0 wrote relative to the working directory; on openjdk's replacement it is /home/build/app.jar: change it by hand"
        ]
    );
}

#[test]
fn a_relative_write_copied_from_with_unknown_workdirs_is_a_missing_fact() {
    // nginx: public workdir `/`, replacement's unknown.
    let text = "FROM nginx:1.27 AS site\nCOPY html html\nFROM nginx:1.27\nCOPY --from=site /html /usr/share/nginx/html\n";
    let (fixed, messages) = run(text);
    assert!(fixed.contains("COPY --from=site /html /usr/share/nginx/html\n"));
    assert_eq!(
        ours(&messages),
        [
            "missing-fact: stage `site` writes relative paths (line 2) into the base image's default working directory, and line 4 copies from there; to tell where they are on nginx's replacement hardport needs `hardened.workdir`: add it to catalog entry `nginx` (or supply the image's OCI config)"
        ]
    );
    // Copying only what the base image keeps in system directories needs no fact.
    let text = "FROM nginx:1.27 AS site\nCOPY html html\nFROM nginx:1.27\nCOPY --from=site /etc/nginx /etc/nginx\n";
    let (_, messages) = run(text);
    assert!(ours(&messages).is_empty(), "{messages:#?}");
}

#[test]
fn a_later_absolute_workdir_keeps_its_own_sources() {
    let text = "\
FROM eclipse-temurin:21 AS build
COPY . .
USER root
RUN pip install --prefix=\"/install\" -r requirements.txt
WORKDIR /work
RUN ./gradlew build
FROM eclipse-temurin:21
COPY --from=build /work/build/libs/app.jar /app.jar
COPY --from=build /gradlew /gradlew
COPY --from=build /install /install
";
    let (fixed, _) = run(text);
    assert!(
        fixed.contains("COPY --from=build /work/build/libs/app.jar /app.jar\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains("COPY --from=build /home/build/gradlew /gradlew\n"),
        "{fixed}"
    );
    // A RUN wrote /install by absolute path.
    assert!(
        fixed.contains("COPY --from=build /install /install\n"),
        "{fixed}"
    );
}

const POSTGRES: &str = "\
FROM postgres:16
ENV PGDATA=/var/lib/postgresql/data
ENV BACKUP /var/lib/postgresql/database
COPY init.sql /var/lib/postgresql/data/init/
VOLUME [\"/var/lib/postgresql/data\"]
VOLUME /var/lib/postgresql/data /var/lib/postgresql/database
";

#[test]
fn data_paths_move_in_volume_env_and_copy_destinations() {
    let (fixed, messages) = run(POSTGRES);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/postgres:16
ENV PGDATA=/var/lib/postgresql/pgdata
ENV BACKUP /var/lib/postgresql/database
COPY init.sql /var/lib/postgresql/pgdata/init/
VOLUME [\"/var/lib/postgresql/pgdata\"]
VOLUME /var/lib/postgresql/pgdata /var/lib/postgresql/database
"
    );
    assert_eq!(
        ours(&messages),
        [
            "data-path: postgres's replacement keeps /var/lib/postgresql/data at /var/lib/postgresql/pgdata (catalog `paths`): line 2: `/var/lib/postgresql/data` → `/var/lib/postgresql/pgdata`, line 4: `/var/lib/postgresql/data/init/` → `/var/lib/postgresql/pgdata/init/`, line 5: `/var/lib/postgresql/data` → `/var/lib/postgresql/pgdata`, line 6: `/var/lib/postgresql/data` → `/var/lib/postgresql/pgdata`"
        ]
    );
    assert_idempotent(&fixed);
    let crlf = POSTGRES.replace('\n', "\r\n").replace("VOLUME", "volume");
    let (fixed_crlf, _) = run(&crlf);
    assert_eq!(
        fixed_crlf,
        fixed.replace('\n', "\r\n").replace("VOLUME", "volume")
    );
}

#[test]
fn a_variable_volume_follows_its_rewritten_env() {
    let text = "FROM postgres:16\nENV PGDATA /var/lib/postgresql/data\nVOLUME $PGDATA\n";
    let (fixed, _) = run(text);
    assert_eq!(
        fixed,
        "FROM reg.example.dev/postgres:16\nENV PGDATA /var/lib/postgresql/pgdata\nVOLUME $PGDATA\n"
    );
}

#[test]
fn a_command_naming_a_data_path_blocks_the_rewrite() {
    let text = "\
FROM postgres:16
VOLUME /var/lib/postgresql/data
CMD [\"postgres\", \"-D\", \"/var/lib/postgresql/data\"]
";
    let (fixed, messages) = run(text);
    assert!(
        fixed.contains("VOLUME /var/lib/postgresql/data\n"),
        "{fixed}"
    );
    assert_eq!(
        ours(&messages),
        [
            "data-path: postgres's replacement keeps /var/lib/postgresql/data at /var/lib/postgresql/pgdata (catalog `paths`), but hardport cannot rewrite every use: line 3: CMD names /var/lib/postgresql/data, and hardport does not rewrite it there: rewrite them by hand"
        ]
    );
}

#[test]
fn a_data_prefix_matches_whole_components() {
    let extra = "  - name: store\n    match: [example/store]\n    source: test\n    hardened: {user: \"0\"}\n    paths: {/data/: /srv/data}\n";
    let text = "\
FROM example/store:1 AS seed
COPY seed /data/seed
COPY db /database
ENV DIRS=/data:/database:/data/x:/datax
VOLUME /data
FROM example/store:1
COPY --from=seed /data/seed /data/seed
COPY --from=seed /database /database
";
    let (fixed, messages) = run_with(extra, text);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/store:1 AS seed
COPY seed /srv/data/seed
COPY db /database
ENV DIRS=/srv/data:/database:/srv/data/x:/datax
VOLUME /srv/data
FROM reg.example.dev/store:1
COPY --from=seed /srv/data/seed /srv/data/seed
COPY --from=seed /database /database
",
        "{messages:#?}"
    );
    assert_copies_resolve(&fixed, "/");
}

#[test]
fn path_helpers_respect_component_boundaries() {
    assert_eq!(under("/data/x", "/data"), Some("/x"));
    assert_eq!(under("/data", "/data"), Some(""));
    assert_eq!(under("/database", "/data"), None);
    assert_eq!(under("/x", "/"), Some("/x"));
    assert_eq!(clean_absolute("/a//b/./c/../d/"), Some("/a/b/d".into()));
    assert_eq!(clean_absolute("a"), None);
    assert_eq!(
        rewrite_literal("/app/", "/app", "/home/build", false),
        Some("/home/build/".into())
    );
    assert_eq!(rewrite_literal("//app", "/app", "/home/build", false), None);
    assert_eq!(
        rewrite_literal("./app", "/app", "/home/build", true),
        Some("./home/build".into())
    );
    assert_eq!(
        rewrite_literal("/x.jar", "/", "/home/build", true),
        Some("/home/build/x.jar".into())
    );
    let text = "RUN cp /app/a /application $HOME/app ${X}/app x=/app";
    assert_eq!(
        mention(text, 0..text.len(), "/app", &RangeSet::default()),
        Some(7)
    );
    assert_eq!(
        mention(
            text,
            0..text.len(),
            "/app",
            &RangeSet::new(vec![7..11, 0..1])
        ),
        Some(text.len() - 4)
    );
    assert_eq!(
        mention(text, 8..text.len() - 1, "/app", &RangeSet::default()),
        None
    );
    assert_eq!(
        absolute_words(
            "RUN pip install --prefix=\"/install\" && cd / && go build -o /out/app . >/dev/null x/y"
        ),
        ["/install", "/out/app", "/dev/null"]
    );
    let mut scope = Scope::default();
    scope.set("A", Some("/app".into()), false);
    scope.set("A", Some("/env".into()), true);
    scope.set("A", Some("/arg".into()), false);
    assert_eq!(expand("${A}/x:$A", &scope).as_deref(), Some("/env/x:/env"));
    assert_eq!(expand("$B/x", &scope), None);
    assert_eq!(expand("${A:-x}", &scope), None);
    assert_eq!(expand("\\$A", &scope), None);
}

#[test]
fn odd_input_does_not_panic() {
    for text in [
        "FROM builder:20\nWORKDIR /app\nRUN x\nCOPY --from=0 / /\n",
        "FROM builder:20 AS a\nWORKDIR /app\nRUN x\nFROM a\nWORKDIR ..\nCOPY --from=a ../../app/é /é\n",
        "FROM builder:20\nWORKDIR /\nRUN npm ci\n",
        "FROM builder:20\nWORKDIR \"/app\"\nENV A=\"/app/x\" B='/app'\nRUN x\n",
        "FROM builder:20\nWORKDIR /ap\\\np\nRUN x\n",
        "FROM builder:20\nENV\tA /app\nWORKDIR ${A\nRUN x\n",
        "FROM eclipse-temurin:21 AS b\nCOPY . ${X}\nFROM scratch\nCOPY --from=b /x /x\n",
    ] {
        let (fixed, _) = run(text);
        let (again, _) = run(&fixed);
        assert_eq!(again, fixed, "{text}");
    }
}

#[test]
fn quoted_values_keep_their_quotes_and_continued_ones_block() {
    let (fixed, _) = run("FROM builder:20\nWORKDIR \"/app\"\nENV A=\"/app/x\" B='/app'\nRUN x\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/builder:20-dev\nWORKDIR \"/home/build\"\nENV A=\"/home/build/x\" B='/home/build'\nRUN x\n"
    );
    let text = "FROM builder:20\nWORKDIR /ap\\\np\nRUN x\n";
    let (fixed, messages) = run(text);
    assert!(fixed.contains("WORKDIR /ap\\\np\n"), "{fixed}");
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage #0 runs RUN steps as user 1000:1000 after `WORKDIR /app`, which that user may not be able to write on builder's replacement, but hardport cannot move it to /home/build: line 2: `/app` is written in a form hardport does not edit: move it by hand"
        ]
    );
}

#[test]
fn workdir_root_is_reported_not_moved() {
    let (fixed, messages) = run("FROM builder:20\nWORKDIR /\nRUN npm ci\n");
    assert!(fixed.contains("WORKDIR /\n"));
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage #0 runs RUN steps in / as user 1000:1000 on builder's replacement, and only root can write /; hardport does not move /: set a WORKDIR under /home/build, the replacement's working directory"
        ]
    );
}

#[test]
fn stages_built_on_a_moved_stage_and_mounts_from_it_follow() {
    let text = "\
FROM builder:20 AS build
WORKDIR /app
RUN npm ci
FROM build AS test
RUN npm test
FROM builder:20
COPY --from=test /app/dist ./dist
RUN --mount=type=bind,from=build,source=/app/node_modules,target=/x ls /x
";
    let (fixed, _) = run(text);
    assert_eq!(
        fixed,
        "\
FROM reg.example.dev/builder:20-dev AS build
WORKDIR /home/build
RUN npm ci
FROM build AS test
RUN npm test
FROM reg.example.dev/builder:20-dev
COPY --from=test /home/build/dist ./dist
RUN --mount=type=bind,from=build,source=/home/build/node_modules,target=/x ls /x
"
    );
    assert_copies_resolve(&fixed, "/home/build");
    assert_idempotent(&fixed);
}

#[test]
fn an_unknown_relative_destination_blocks_instead_of_guessing() {
    let text = "FROM eclipse-temurin:21 AS b\nCOPY . ${X}\nFROM scratch\nCOPY --from=b /x /x\n";
    let (fixed, messages) = run(text);
    assert!(fixed.ends_with("COPY --from=b /x /x\n"), "{fixed}");
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `b` wrote relative paths into the working directory, which is /home/build on openjdk's replacement instead of /, but hardport cannot carry the move to every source copied from there: line 4: hardport cannot tell whether `/x` was written relative to the working directory: change them by hand"
        ]
    );
}

#[test]
fn a_workdir_the_steps_write_as_root_after_user_root_stays() {
    // node's public image ran the RUN as root; `user-root` keeps it so, and the workdir rule
    // sees that `USER root`: nothing to move, nothing to warn about.
    let text = "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html\n";
    let (fixed, messages) = run(text);
    assert!(
        fixed.contains("WORKDIR /app\nCOPY . .\nUSER root\nRUN npm ci\n"),
        "{fixed}"
    );
    assert!(fixed.contains("COPY --from=build /app/dist "), "{fixed}");
    assert!(ours(&messages).is_empty(), "{messages:#?}");
}

#[test]
fn a_family_with_a_stage_that_sets_its_own_user_is_not_moved() {
    // Moving /app would move the `runner` stage's paths too, into a directory its own user
    // `app` may not be able to write.
    let text = "\
FROM builder:20 AS base
WORKDIR /app
RUN make deps
FROM base AS runner
RUN useradd app
USER app
RUN make
";
    let (fixed, messages) = run(text);
    assert!(fixed.contains("WORKDIR /app\n"), "{fixed}");
    assert_eq!(
        ours(&messages),
        [
            "workdir: stage `base` runs RUN steps as user 1000:1000 after `WORKDIR /app`, which that user may not be able to write on builder's replacement; hardport does not move it, because stage `runner` of the same family sets its own USER, which may not be able to write the new place: let the user write it (run that step as root, or `COPY --chown`) or move it by hand"
        ]
    );
}
