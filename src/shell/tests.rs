use super::*;

/// Each script's simple commands, as their words' texts (`>target` for a write).
fn read(script: &str) -> Vec<Vec<String>> {
    simple_commands(script)
        .into_iter()
        .map(|command| {
            let mut words: Vec<String> = command.words.into_iter().map(|word| word.text).collect();
            words.extend(
                command
                    .writes
                    .into_iter()
                    .map(|word| format!(">{}", word.text)),
            );
            words
        })
        .collect()
}

/// The one table every rule's reading of shell text follows.
#[test]
fn the_shell_word_table() {
    let table: &[(&str, &[&[&str]])] = &[
        (
            "apt-get update && apt-get install -y curl",
            &[
                &["apt-get", "update"],
                &["apt-get", "install", "-y", "curl"],
            ],
        ),
        (
            "a; b | c || d & e",
            &[&["a"], &["b"], &["c"], &["d"], &["e"]],
        ),
        (
            "echo 'a b' \"c d\" e\\ f",
            &[&["echo", "a b", "c d", "e f"]],
        ),
        ("echo \"a \\\"b\\\" \\n\"", &[&["echo", "a \"b\" \\n"]]),
        (
            "apt-get update \\\n  && apt-get install x",
            &[&["apt-get", "update"], &["apt-get", "install", "x"]],
        ),
        (
            "apt-get update \\\r\n  && rm -rf /x",
            &[&["apt-get", "update"], &["rm", "-rf", "/x"]],
        ),
        (
            "a \\\n  # a comment line inside a continuation\n  && b",
            &[&["a"], &["b"]],
        ),
        (
            "apt-get install -y \\\n  # tools\n\n  curl \\  \n  git",
            &[&["apt-get", "install", "-y", "curl", "git"]],
        ),
        ("echo a#b # comment", &[&["echo", "a#b"]]),
        (
            "echo x > /etc/x 2>/dev/null",
            &[&["echo", "x", ">/etc/x", ">/dev/null"]],
        ),
        ("make >>log 2>&1", &[&["make", ">log"]]),
        ("cmd &> /tmp/out", &[&["cmd", ">/tmp/out"]]),
        ("cat < in.txt <<EOF", &[&["cat"]]),
        (
            "tee >(chown node x) | cat",
            &[&["tee"], &["chown", "node", "x"], &["cat"]],
        ),
        ("diff <(sort a) b", &[&["diff"], &["sort", "a"], &["b"]]),
        (
            "echo $(id -u) `whoami`",
            &[&["echo"], &["id", "-u"], &["whoami"]],
        ),
        ("(cd /app && npm ci)", &[&["cd", "/app"], &["npm", "ci"]]),
        ("A=1 B='2 3' make", &[&["A=1", "B=2 3", "make"]]),
        ("", &[]),
        ("  \n ; ", &[]),
        ("'unterminated", &[&["unterminated"]]),
    ];
    for (script, expected) in table {
        let expected: Vec<Vec<String>> = expected
            .iter()
            .map(|command| command.iter().map(|word| (*word).to_owned()).collect())
            .collect();
        assert_eq!(read(script), expected, "{script:?}");
    }
}

#[test]
fn ranges_cover_the_raw_bytes_of_each_word() {
    let script = "chown -R 'node':node \"$APP\" x\\ y";
    let words: Vec<Word> = simple_commands(script).remove(0).words;
    let raw: Vec<&str> = words
        .iter()
        .map(|word| &script[word.range.clone().expect("a range")])
        .collect();
    assert_eq!(raw, ["chown", "-R", "'node':node", "\"$APP\"", "x\\ y"]);
    assert_eq!(words[2].text, "node:node");
    // Quote removal changed more than the ends: no range holds the text.
    assert_eq!(words[2].text_range(script), None);
    assert!(words[3].expands && words[3].quoted);
    assert_eq!(words[0].text_range(script), Some(0..5));
    let quoted = "chown 'node:node' x";
    let owner = &simple_commands(quoted).remove(0).words[1];
    assert_eq!(
        owner.text_range(quoted).map(|range| &quoted[range]),
        Some("node:node")
    );
}

#[test]
fn assignments_and_expansions_are_flagged() {
    let words = simple_commands("A=$HOME 'B'=1 c=d=e $X").remove(0).words;
    let flags: Vec<(bool, bool)> = words
        .iter()
        .map(|word| (word.assignment, word.expands))
        .collect();
    assert_eq!(
        flags,
        [(true, true), (false, false), (true, false), (false, true)]
    );
}

#[test]
fn the_program_is_found_past_keywords_assignments_and_wrappers() {
    let program = |script: &str| {
        simple_commands(script)
            .first()
            .and_then(|command| command.program().map(str::to_owned))
    };
    assert_eq!(
        program("sudo -u app -E apt-get install x").as_deref(),
        Some("apt-get")
    );
    assert_eq!(
        program("env -u X A=1 /usr/bin/npm ci").as_deref(),
        Some("npm")
    );
    assert_eq!(program("if apk add x").as_deref(), Some("apk"));
    assert_eq!(
        program("DEBIAN_FRONTEND=noninteractive exec nice -n 5 make").as_deref(),
        Some("make")
    );
    assert_eq!(
        program("xargs -I {} chown node {}").as_deref(),
        Some("chown")
    );
    assert_eq!(program("'apt-get' install"), None, "quoted");
    assert_eq!(program("$PM install"), None, "expanded");
    assert_eq!(program("A=1"), None, "only an assignment");
}

#[test]
fn pattern_characters_and_unterminated_quotes_are_flagged() {
    let words = simple_commands("node *.js '*' a\"b").remove(0).words;
    let flags: Vec<(Option<char>, bool)> = words
        .iter()
        .map(|word| (word.pattern, word.unterminated))
        .collect();
    assert_eq!(
        flags,
        [
            (None, false),
            (Some('*'), false),
            (None, false),
            (None, true)
        ]
    );
}
