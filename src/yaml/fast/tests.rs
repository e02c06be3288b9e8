use super::*;
use crate::test_random::XorShift;
use crate::yaml::{MAX_NODES, parse_with_saphyr};

/// Asserts the fast reader reads `text`, to the tree `saphyr-parser`'s events give.
fn assert_read_like_saphyr(text: &str) {
    let fast = read(text, MAX_NODES).unwrap_or_else(|| panic!("gave up on {text:?}"));
    let saphyr = parse_with_saphyr(text, MAX_NODES).expect("saphyr reads it");
    assert!(
        fast == saphyr.documents,
        "{text:?}\nfast: {fast:#?}\nsaphyr: {:#?}",
        saphyr.documents
    );
}

#[test]
fn reads_what_values_files_are_made_of_as_saphyr_does() {
    for text in [
        "# top\n\nimage:\n  repository: nginx # the name\n  tag: \"1.25\"\n\n# end\n",
        "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
        "env:\n- name: A\n  value: x\n- name: B\n  # note\n  value: 'it''s'\nnext: 1\n",
        "list:\n  - a\n  -\n  - b: 1\n    c:\n    - d\n",
        "empty:\nalso: # comment\n",
        "args: [\"--a\", b, 'c']\nres: {}\nlimits: {cpu: 1, mem: [a, {x: y}]}\nnone: [ ]\n",
        "k: \"\\t\\u00e9\\\\ \\\" \\x41\"\n",
        "script: |\n  echo a\n\n    indented\n  b\nkept: |+\n  x\n\nnext: >-\n  one\n  two\n\n  three\n",
        "a: |\n\n  after a blank line\nb: >\n  folded\n",
        "empty: |\n\nnext: 1\n",
        "description: a long\n  description over\n\n  three lines # and a comment\nnext: 1\n",
        "text: plain\n  \"quoted\" on\n  [and] {bracketed}, too\n",
        "---\nafter: marker\n",
        "a: 'one  \n  two\n\n   three'\nb: \"x  \n   y\\ \n   z\\t \n   w\"\nc:\n- 'item\n  goes on'\n",
        "# lead\n--- # doc one\na: 1\n---\n\n# two\n- b\n---\nc: |\n  x\n---\nd: e\n",
        "key:\n  {}\nother:\n    [a, b]\n",
        "crlf:\r\n  a: 1\r\n  b: |\r\n    x\r\n",
        "url: http://a:80/b#c\ntime: 12:30\n\"quoted key\": 1\n'single': 2\n",
        "é: ünïcödé # ok\n",
        "- a\n- b: c\n",
    ] {
        assert_read_like_saphyr(text);
    }
}

#[test]
fn gives_up_on_what_it_does_not_read() {
    for text in [
        "a: &anchor 1\nb: *anchor\n",
        "a: !!str 1\n",
        "? a\n: b\n",
        "a: 1\n---\n",
        "---\n---\na: 1\n",
        "a: 1\n...\n",
        "--- a\n",
        "a: 1\n---x: 2\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: \"two\nlines at the key's column\"\n",
        "a: \"escaped \\\n  line break\"\n",
        "'multi-line\n  key': 1\n",
        "a: [1,\n  2]\n",
        "a:\tb\n",
        "\u{feff}a: 1\n",
        "a: |2\n   x\n",
        "a: >\n  x\n    more indented\n",
        "a: |\n  no final break",
        "  a: 1\n",
        "just a scalar\n",
        "",
        "# only a comment\n",
        "a: x\u{85}y\n",
        "a: {b}\n",
        "a:\n- - nested\n",
    ] {
        assert!(read(text, MAX_NODES).is_none(), "read {text:?}");
    }
}

#[test]
fn gives_up_on_invalid_yaml_so_that_saphyr_reports_it() {
    for text in [
        "a: b: c\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: 1\n- b\n",
        "a:\n  - b\n  c: 1\n",
        "a: [b, c\n",
        "a: 'open\n",
        "a: \"\\q\"\n",
        "a: |\n    x\n  y\n",
        "a: x\n  b: y\n",
        "a: [b,]]\n",
        "x: [a -]\n",
        "x: {a: b -}\n",
        "- [ a -,  xy ]\n",
    ] {
        assert!(read(text, MAX_NODES).is_none(), "read {text:?}");
        assert!(
            parse_with_saphyr(text, MAX_NODES).is_err(),
            "saphyr read {text:?}"
        );
    }
}

#[test]
fn refuses_special_characters_wherever_they_stand() {
    let at =
        |offset: usize, middle: &str| format!("{}{middle}{}", "a".repeat(offset), "b".repeat(40));
    for offset in 0..70 {
        for good in ["\r\n", "é", "\t", "\u{a0}", "\u{2027}"] {
            assert!(plain_text(at(offset, good).as_bytes()), "{offset} {good:?}");
        }
        for bad in [
            "\r", "\r ", "\u{85}", "\u{9f}", "\u{2028}", "\u{2029}", "\u{feff}", "\u{fffe}",
            "\u{ffff}", "\0", "\x7f", "\x1b",
        ] {
            assert!(!plain_text(at(offset, bad).as_bytes()), "{offset} {bad:?}");
        }
    }
    assert!(!plain_text(b"ends in \r"));
}

#[test]
fn leaves_files_past_the_node_budget_to_saphyr() {
    let text = "a: 1\nb: 2\n";
    // The mapping and four scalars.
    assert!(read(text, 5).is_some());
    assert!(read(text, 4).is_none());
}

/// The fast reader exists for speed: it must read nearly all of the real values files and
/// charts (by bytes), each to saphyr's tree.
#[test]
fn reads_nearly_all_of_the_corpus_as_saphyr_does() {
    let dir = std::env::var_os("HARDPORT_CORPUS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
        });
    let Ok(index) = std::fs::read_to_string(dir.join("INDEX.tsv")) else {
        eprintln!("skipped: the corpus is not present");
        return;
    };
    let (mut total, mut read_bytes) = (0, 0);
    for line in index.lines() {
        let mut fields = line.split('\t');
        let (Some(path), Some("helm-values" | "chart-yaml")) = (fields.next(), fields.next())
        else {
            continue;
        };
        let text = std::fs::read_to_string(dir.join(path)).expect("a UTF-8 corpus file");
        total += text.len();
        if let Some(documents) = read(&text, MAX_NODES) {
            read_bytes += text.len();
            let saphyr = parse_with_saphyr(&text, MAX_NODES).expect("saphyr reads it");
            assert!(documents == saphyr.documents, "{path}: the trees differ");
        }
    }
    assert!(total > 5_000_000, "{total} bytes of YAML in the corpus");
    assert!(
        read_bytes * 100 >= total * 95,
        "the fast reader read {read_bytes} of {total} bytes"
    );
}

/// Texts put together from lines values files are made of, at random indentations: whenever
/// the fast reader reads one, `saphyr-parser` must read it too, to the same tree.
#[test]
fn random_block_texts_are_read_like_saphyr_or_given_up() {
    const LINES: &[&str] = &[
        "a:",
        "b: 1",
        "- x",
        "- y: z",
        "-",
        "c: |",
        "d: >-",
        "e: |+",
        "text",
        "more text",
        "",
        "# comment",
        "f: [1, 'two', {g: h}]",
        "i: {}",
        "j: \"q\\tq\" # c",
        "k: 'it''s'",
        "l: value # note",
        "m: a:b",
        "n: x #y",
        "- [a, b]",
        "o:   ",
        "p: -1",
        "q: ~",
        "\"r\": s",
        "t: \"\\u00e9\"",
        "u:",
        "continued words",
        "\"quoted\" words",
        "[bracketed] {words}, more",
        "s: 'opens",
        "closes'",
        "- \"opens  ",
        "still \\ open",
        "closes\"",
        "  ",
        "- - nested",
        "v: w: x",
        "y: [",
        "---",
    ];
    let mut random = XorShift::new(0x9e37_79b9_7f4a_7c15);
    let mut next = |bound: usize| random.below(bound);
    let mut read_count = 0;
    for _ in 0..100_000 {
        let mut text = String::new();
        for _ in 0..1 + next(10) {
            let indent = [0, 0, 0, 1, 2, 2, 4, 4, 6][next(9)];
            text.push_str(&" ".repeat(indent));
            text.push_str(LINES[next(LINES.len())]);
            text.push_str(if next(8) == 0 { "\r\n" } else { "\n" });
        }
        if let Some(documents) = read(&text, MAX_NODES) {
            read_count += 1;
            let saphyr = parse_with_saphyr(&text, MAX_NODES)
                .unwrap_or_else(|error| panic!("{text:?}: saphyr refuses it: {error}"));
            assert!(documents == saphyr.documents, "{text:?}: the trees differ");
        }
    }
    assert!(read_count > 3_000, "only {read_count} texts were read");
}
