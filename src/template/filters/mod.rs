//! Ansible's filters and tests for bgrun's templates.
//!
//! [`register`] adds the filters and tests Ansible provides on top of Jinja2, and replaces the
//! Jinja2 built-ins whose minijinja version behaves differently from what Ansible users rely on
//! (`bool`, `int`, `float`, `string`, `join`), so templates written for Ansible render the same.
//!
//! minijinja's own `default`/`d`, `length`/`count`, `lower`, `upper`, `sort`,
//! `unique`, `min`, `max` and `zip` already behave like Ansible's and are kept.

mod args;
mod checks;
mod collections;
mod data;
mod encoding;
mod files;
mod hashing;
mod json;
mod math;
mod numbers;
mod paths;
mod random;
mod re;
mod records;
#[cfg(test)]
mod tests;
mod text;
mod time;
mod version;
mod yaml;

use minijinja::value::Value;

pub(crate) use self::paths::glob_files;
use minijinja::{Environment, Error};

use self::checks::*;
use self::collections::*;
use self::encoding::*;
use self::files::*;
use self::hashing::*;
use self::json::*;
use self::math::*;
use self::numbers::*;
use self::paths::*;
use self::random::*;
use self::re::*;
use self::records::*;
use self::text::*;
use self::time::*;
use self::version::*;
use self::yaml::*;

/// Adds Ansible's filters and tests to `env`, overriding minijinja built-ins that differ.
pub fn register(env: &mut Environment<'_>) {
    // Built-ins whose minijinja version differs from Ansible's.
    env.add_filter("bool", bool_filter);
    env.add_filter("int", int_filter);
    env.add_filter("float", float_filter);
    env.add_filter("string", string);
    env.add_filter("join", join);

    // Serialisation.
    env.add_filter("to_json", to_json_text);
    env.add_filter("to_nice_json", to_nice_json_text);
    env.add_filter("to_yaml", to_yaml_text);
    env.add_filter("to_nice_yaml", to_nice_yaml_text);
    env.add_filter("from_json", from_json);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("from_yaml_all", from_yaml_all);

    // Digests, crypt strings, UUIDs, randomness, time.
    env.add_filter("hash", hash);
    env.add_filter("password_hash", password_hash);
    env.add_filter("to_uuid", to_uuid);
    env.add_filter("random", random);
    env.add_filter("shuffle", shuffle);
    env.add_filter("strftime", strftime);
    env.add_filter("to_datetime", to_datetime);

    // Numbers.
    env.add_filter("log", log);
    env.add_filter("pow", pow);
    env.add_filter("root", root);
    env.add_filter("human_readable", human_readable);
    env.add_filter("human_to_bytes", human_to_bytes);

    // Text.
    env.add_filter("comment", comment);
    env.add_filter("format", format);

    // Paths.
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("splitext", splitext);
    env.add_filter("path_join", path_join);
    env.add_filter("expanduser", expanduser);
    env.add_filter("fileglob", fileglob);

    // Regular expressions.
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", regex_escape);

    // Text encodings.
    env.add_filter("quote", quote);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);

    // Data shaping.
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
    env.add_filter("mandatory", mandatory);
    env.add_filter("ternary", ternary);
    env.add_filter("flatten", flatten);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("extract", extract);
    env.add_filter("type_debug", type_debug);
    env.add_filter("subelements", subelements);
    env.add_filter("rekey_on_member", rekey_on_member);

    // Set theory.
    env.add_filter("difference", difference);
    env.add_filter("intersect", intersect);
    env.add_filter("union", union);
    env.add_filter("symmetric_difference", symmetric_difference);

    // Tests.
    env.add_test("match", test_match);
    env.add_test("search", test_search);
    env.add_test("regex", test_regex);
    env.add_test("truthy", test_truthy);
    env.add_test("falsy", test_falsy);
    env.add_test("version", test_version);
    env.add_test("version_compare", test_version);
    env.add_test("failed", test_failed);
    env.add_test("failure", test_failed);
    env.add_test("succeeded", test_succeeded);
    env.add_test("success", test_succeeded);
    env.add_test("successful", test_succeeded);
    env.add_test("changed", test_changed);
    env.add_test("change", test_changed);
    env.add_test("skipped", test_skipped);
    env.add_test("skip", test_skipped);
    env.add_test("unreachable", test_unreachable);
    env.add_test("reachable", test_reachable);
    env.add_test("subset", test_subset);
    env.add_test("superset", test_superset);
    env.add_test("contains", test_contains);
    env.add_test("any", test_any);
    env.add_test("all", test_all);
    env.add_test("file", test_file);
    env.add_test("directory", test_directory);
    env.add_test("link", test_link);
    env.add_test("exists", test_exists);
    env.add_test("link_exists", test_link_exists);
    env.add_test("abs", test_abs);
    env.add_test("same_file", test_same_file);
    env.add_test("mount", test_mount);

    // Ansible before 2.9 let tests on results be written as filters (`when: result|changed`), and
    // playbooks of that time still do.
    for (name, test) in [
        ("changed", test_changed as fn(&Value) -> Result<bool, Error>),
        ("failed", test_failed),
        ("success", test_succeeded),
        ("succeeded", test_succeeded),
        ("skipped", test_skipped),
    ] {
        env.add_filter(name, test);
    }
}
