//! Ansible's filters and tests for bgrun's templates.
//!
//! [`register`] adds the filters and tests Ansible provides on top of Jinja2, and replaces the
//! Jinja2 built-ins whose minijinja version behaves differently from what Ansible users rely on
//! (`bool`, `int`, `float`, `string`), so templates written for Ansible render the same.
//!
//! minijinja's own `default`/`d`, `length`/`count`, `lower`, `upper`, `join`, `sort`,
//! `unique`, `min`, `max` and `zip` already behave like Ansible's and are kept.

mod args;
mod checks;
mod collections;
mod data;
mod encoding;
mod json;
mod numbers;
mod paths;
mod re;
#[cfg(test)]
mod tests;
mod text;
mod version;
mod yaml;

use minijinja::value::Value;
use minijinja::{Environment, Error};

use self::checks::*;
use self::collections::*;
use self::encoding::*;
use self::json::*;
use self::numbers::*;
use self::paths::*;
use self::re::*;
use self::text::*;
use self::version::*;
use self::yaml::*;

/// Adds Ansible's filters and tests to `env`, overriding minijinja built-ins that differ.
pub fn register(env: &mut Environment<'_>) {
    // Built-ins whose minijinja version differs from Ansible's.
    env.add_filter("bool", bool_filter);
    env.add_filter("int", int_filter);
    env.add_filter("float", float_filter);
    env.add_filter("string", string);

    // Serialisation.
    env.add_filter("to_json", to_json_text);
    env.add_filter("to_nice_json", to_nice_json_text);
    env.add_filter("to_yaml", to_yaml_text);
    env.add_filter("to_nice_yaml", to_nice_yaml_text);
    env.add_filter("from_json", from_json);
    env.add_filter("from_yaml", from_yaml);

    // Paths.
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("splitext", splitext);
    env.add_filter("path_join", path_join);

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
