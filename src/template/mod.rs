//! Templating of strings, conditions and files with minijinja, the way Ansible's Jinja2 does it:
//! undefined variables are errors, `trim_blocks` is on, values print as Python prints them, a
//! templated string's value is what Ansible makes of its text (`convert`), and variables that
//! are themselves templates are rendered when they are read.

mod convert;
pub mod filters;
pub mod lookups;
mod plugins;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Enumerator, Object, ObjectRepr, Serde};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};
use serde_json::Value as Json;

/// Variables by name: the form every layer of variables takes.
pub type Vars = serde_json::Map<String, Json>;

/// The placeholder Ansible's `omit` variable stands for: an argument set to it is left out.
pub const OMIT: &str = "__omit_place_holder__bgrun__";

/// How deep variables may refer to variables before bgrun calls it a loop.
const MAX_DEPTH: usize = 32;

/// The work one render may do, in minijinja's fuel (about one instruction, or 64 bytes of values,
/// each): far above what a configuration file takes, low enough that a runaway loop such as
/// `{% for i in range(99999) %}{% for j in range(99999) %}` ends in an error within a second.
const MAX_FUEL: u64 = 5_000_000;

/// How deep templates may nest blocks, calls and macros (minijinja's own safe maximum).
const MAX_RECURSION: usize = 500;

/// The start of the name under which a template string is compiled once and kept by the
/// environment: the rest of the name is the template's text. No `{% include %}` can name it.
const INLINE: &str = "\0inline\0";

/// The start of the name under which an expression is compiled once and kept, as a template
/// that sets [`VALUE`] to the expression's value.
const EXPRESSION: &str = "\0expression\0";

/// The name under which a scope gives itself, for lookups that render a template in it.
const SCOPE: &str = "__bgrun_scope__";

/// The variable an expression's template sets.
const VALUE: &str = "__bgrun_value__";

/// A template that could not be rendered, in words that name the variable or the syntax at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// The shared minijinja environment with Ansible's settings and filters.
#[derive(Debug)]
pub struct Templar {
    /// The environment texts and expressions render in, with the ones compiled so far.
    current: Mutex<Arc<Environment<'static>>>,
    /// The same environment holding no compiled text: what `current` starts again from.
    base: Environment<'static>,
    /// How many texts and expressions were compiled, and how many when `current` started.
    compiled: Arc<AtomicUsize>,
    compiled_before: AtomicUsize,
}

/// Compiled texts and expressions kept at most: minijinja keeps each one it compiles for the
/// life of its environment, at about 12 KB each, so a run of thousands of steps would grow by
/// that much per step; past this many, the next ones compile in a fresh environment.
const KEPT_COMPILED: usize = 512;

impl Templar {
    pub fn new() -> Arc<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        if let Ok(syntax) = SyntaxConfig::builder().trim_blocks(true).build() {
            env.set_syntax(syntax);
        }
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_fuel(Some(MAX_FUEL));
        env.set_recursion_limit(MAX_RECURSION);
        // Values print as Python's str() prints them, None as nothing.
        env.set_formatter(|out, _, value| {
            let text =
                convert::python_text(value).map_err(|e| minijinja::Error::new(ErrorKind::BadSerialization, e))?;
            out.write_str(&text).map_err(minijinja::Error::from)
        });
        // Strings and conditions render on every host and step: each text or expression is
        // compiled on first use and kept.
        let compiled = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&compiled);
        env.set_loader(move |name| {
            count.fetch_add(1, Ordering::Relaxed);
            Ok(match (name.strip_prefix(INLINE), name.strip_prefix(EXPRESSION)) {
                (Some(text), _) => Some(text.to_string()),
                (_, Some(expr)) => Some(format!("{{% set {VALUE} = ({expr}) %}}")),
                _ => None,
            })
        });
        filters::register(&mut env);
        lookups::register(&mut env);
        env.add_global("omit", OMIT);
        plugins::register(&mut env);
        Arc::new(Templar {
            current: Mutex::new(Arc::new(env.clone())),
            base: env,
            compiled,
            compiled_before: AtomicUsize::new(0),
        })
    }

    /// How many template texts and expressions were compiled so far.
    #[cfg(test)]
    fn compiled(&self) -> usize {
        self.compiled.load(Ordering::Relaxed)
    }

    /// The environment to render in: the current one, or a fresh one when the current one holds
    /// `KEPT_COMPILED` compiled texts (renders still running keep the old one until they end).
    fn env(&self) -> Arc<Environment<'static>> {
        let mut current = self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let compiled = self.compiled.load(Ordering::Relaxed);
        if compiled - self.compiled_before.load(Ordering::Relaxed) >= KEPT_COMPILED {
            *current = Arc::new(self.base.clone());
            self.compiled_before.store(compiled, Ordering::Relaxed);
        }
        Arc::clone(&current)
    }

    /// Renders every string inside a value; strings set to `omit` drop their mapping entry.
    pub fn render_value(&self, value: &Json, scope: &Scope) -> Result<Json, TemplateError> {
        Ok(match value {
            Json::String(text) => self.render_string(text, scope)?,
            Json::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|v| self.render_value(v, scope))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(map) => {
                let mut out = Vars::new();
                for (key, v) in map {
                    let rendered = self.render_value(v, scope)?;
                    if rendered.as_str() != Some(OMIT) {
                        out.insert(key.clone(), rendered);
                    }
                }
                Json::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Renders a string to the value Ansible gives it: `{{ name }}` of a variable that is a
    /// number, a boolean or null is that value; otherwise the text rendered, read back as a
    /// list, dict or bool when it reads as one, with the input's trailing newlines.
    pub fn render_string(&self, text: &str, scope: &Scope) -> Result<Json, TemplateError> {
        if !is_template(text) {
            return Ok(Json::String(text.to_string()));
        }
        if let Some(raw) = single_variable(text).and_then(|name| scope.raw(name))
            && matches!(raw, Json::Null | Json::Bool(_) | Json::Number(_))
        {
            return Ok(raw.clone());
        }
        let body = convert::without_trailing_newline(text);
        let value = match single_expression(body) {
            Some(expr) => {
                let value = self.eval_value(expr, text, scope)?;
                convert::expression_value(&value).map_err(TemplateError)?
            }
            None => convert::text_value(self.render_body(body, text, scope)?),
        };
        Ok(convert::keep_trailing_newlines(text, value))
    }

    /// Renders a template's text, compiled once for the run; a syntax error quotes `shown`.
    fn render_body(&self, body: &str, shown: &str, scope: &Scope) -> Result<String, TemplateError> {
        let env = self.env();
        let template = env
            .get_template(&format!("{INLINE}{body}"))
            .map_err(|e| syntax_error(&e, shown))?;
        template.render(scope.to_value()).map_err(|e| {
            let names = template.undeclared_variables(true);
            self.explain(&e, names, scope)
        })
    }

    /// Renders a template file; an error points at the file's line and column, with a caret.
    pub fn render_file(&self, path: &std::path::Path, text: &str, scope: &Scope) -> Result<String, TemplateError> {
        let located = |error: &minijinja::Error, message: String| {
            let Some(line) = error.line() else {
                return TemplateError(format!("template `{}`: {message}", path.display()));
            };
            let file = crate::source::SourceFile::new(path, text);
            let line_start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
            let col = error
                .range()
                .filter(|r| r.start >= line_start)
                .map(|r| text[line_start..r.start.min(text.len())].chars().count() + 1)
                .unwrap_or(1);
            let span = crate::source::Span::new(&file, line, col);
            TemplateError(format!("{span}: {message}\n{}", span.snippet()))
        };
        let env = self.env();
        let template = env
            .template_from_str(text)
            .map_err(|e| located(&e, format!("template syntax error: {}", describe(&e))))?;
        let rendered = template.render(scope.to_value()).map_err(|e| {
            let names = template.undeclared_variables(true);
            let message = self.explain(&e, names, scope).0;
            located(&e, message)
        })?;
        Ok(convert::with_trailing_newlines(text, rendered))
    }

    /// Evaluates a bare expression, as `when:` and `failed_when:` hold, to its value as it is.
    pub fn eval(&self, expr: &str, scope: &Scope) -> Result<Json, TemplateError> {
        to_json(&self.eval_value(expr, expr, scope)?)
    }

    /// Evaluates `expr`, compiled once for the run; a syntax error quotes `shown`, the text as
    /// the user wrote it.
    fn eval_value(&self, expr: &str, shown: &str, scope: &Scope) -> Result<Value, TemplateError> {
        let env = self.env();
        let template = env
            .get_template(&format!("{EXPRESSION}{expr}"))
            .map_err(|e| syntax_error(&e, shown))?;
        let captured = template.render_captured(scope.to_value()).map_err(|e| {
            let names = template.undeclared_variables(true);
            self.explain(&e, names, scope)
        })?;
        let value = captured.state().lookup(VALUE).unwrap_or(Value::UNDEFINED);
        if value.is_undefined() {
            let names = template.undeclared_variables(true);
            return Err(self.explain(&minijinja::Error::from(ErrorKind::UndefinedError), names, scope));
        }
        Ok(value)
    }

    /// Evaluates a condition. A condition may also be written as a template (`{{ expression
    /// }}`, whose value is Ansible's: `"False"` is false) or be a boolean already (`when: true`).
    pub fn eval_condition(&self, condition: &Json, scope: &Scope) -> Result<bool, TemplateError> {
        let value = match condition {
            Json::String(text) if is_template(text) => self.render_string(text, scope)?,
            Json::String(text) => self.eval(text, scope)?,
            other => other.clone(),
        };
        Ok(truthy(&value))
    }

    /// Names what is undefined, or passes minijinja's own message on.
    fn explain(
        &self,
        error: &minijinja::Error,
        names: std::collections::HashSet<String>,
        scope: &Scope,
    ) -> TemplateError {
        if let Some(inner) = scope.take_nested_error() {
            return inner;
        }
        if error.kind() == ErrorKind::UndefinedError {
            let mut missing: BTreeSet<String> = BTreeSet::new();
            for name in &names {
                let root = name.split('.').next().unwrap_or(name);
                if !scope.has(root) {
                    missing.insert(root.to_string());
                } else if name.contains('.') {
                    let defined = self
                        .base
                        .compile_expression(&format!("{name} is defined"))
                        .and_then(|e| e.eval(scope.to_value()))
                        .map(|v| v.is_true())
                        .unwrap_or(true);
                    if !defined {
                        missing.insert(name.clone());
                    }
                }
            }
            if !missing.is_empty() {
                let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                let verb = if list.len() == 1 { "is" } else { "are" };
                return TemplateError(format!("{} {verb} undefined", list.join(", ")));
            }
        }
        TemplateError(describe(error))
    }
}

fn describe(error: &minijinja::Error) -> String {
    if error.kind() == ErrorKind::OutOfFuel {
        return format!(
            "the template does too much work: a render may take {MAX_FUEL} steps (a loop too long, or values too large?)"
        );
    }
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

fn syntax_error(error: &minijinja::Error, text: &str) -> TemplateError {
    let mut message = format!("template syntax error in `{}`: {}", text.trim(), describe(error));
    if let Some(line) = error.line().filter(|_| text.contains('\n')) {
        message.push_str(&format!(" (template line {line})"));
    }
    TemplateError(message)
}

/// Whether a string holds any Jinja2 markup.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The expression of a template that is exactly one `{{ ... }}`, nothing around it.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") || inner.contains("{#") {
        return None;
    }
    Some(inner.trim())
}

/// The variable of a string that is `{{ name }}` alone (Ansible's `SINGLE_VAR`, whose `$` also
/// matches before a final newline).
fn single_variable(text: &str) -> Option<&str> {
    let inner = convert::without_trailing_newline(text)
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim();
    inner.chars().all(|c| c.is_alphanumeric() || c == '_').then_some(inner)
}

/// Jinja2's truth, for JSON values.
pub fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(items) => !items.is_empty(),
        Json::Object(map) => !map.is_empty(),
    }
}

/// Converts a template value to JSON; undefined parts become null.
pub fn to_json(value: &Value) -> Result<Json, TemplateError> {
    serde_json::to_value(value).map_err(|e| TemplateError(format!("cannot use the value as data: {e}")))
}

/// Converts JSON to a template value.
pub fn from_json(value: &Json) -> Value {
    Value::from(Serde(value))
}

/// The variables a template sees. A variable whose value holds a template is rendered when it is
/// read, in this same scope, as Ansible's lazy variables are.
#[derive(Debug, Clone)]
pub struct Scope(Arc<ScopeInner>);

#[derive(Debug)]
struct ScopeInner {
    templar: Arc<Templar>,
    vars: Vars,
    /// Values that are template values already, shared between scopes rather than copied
    /// (`hostvars`, `groups`, `play_hosts`); they win over `vars`.
    extra: Vec<(String, Value)>,
    resolving: Mutex<Vec<String>>,
    nested_error: Mutex<Option<TemplateError>>,
}

impl Scope {
    pub fn new(templar: &Arc<Templar>, vars: Vars) -> Self {
        Self::with_values(templar, vars, Vec::new())
    }

    /// A scope with values that are already template values (such as `hostvars`).
    pub fn with_values(templar: &Arc<Templar>, vars: Vars, extra: Vec<(String, Value)>) -> Self {
        Scope(Arc::new(ScopeInner {
            templar: Arc::clone(templar),
            vars,
            extra,
            resolving: Mutex::new(Vec::new()),
            nested_error: Mutex::new(None),
        }))
    }

    /// This scope with more variables, which win over every variable and value of this one (a
    /// loop's item, a registered result).
    pub fn extended(&self, more: Vars) -> Scope {
        let mut vars = self.0.vars.clone();
        let extra = self
            .0
            .extra
            .iter()
            .filter(|(name, _)| !more.contains_key(name))
            .cloned()
            .collect();
        vars.extend(more);
        Self::with_values(&self.0.templar, vars, extra)
    }

    /// A variable's value as it was set, its templates not rendered.
    fn raw(&self, name: &str) -> Option<&Json> {
        self.0.vars.get(name)
    }

    /// Whether the scope sets the variable (globals such as `omit` aside).
    pub fn sets(&self, name: &str) -> bool {
        self.0.vars.contains_key(name) || self.0.extra.iter().any(|(k, _)| k == name)
    }

    fn has(&self, name: &str) -> bool {
        self.sets(name) || self.0.templar.base.globals().any(|(k, _)| k == name)
    }

    /// The scope as a template value, to nest it in another scope (`hostvars`).
    pub fn to_value(&self) -> Value {
        Value::from_dyn_object(Arc::clone(&self.0))
    }

    fn take_nested_error(&self) -> Option<TemplateError> {
        self.0.nested_error.lock().ok()?.take()
    }

    /// A variable's value with its templates rendered.
    pub fn resolve(&self, name: &str) -> Result<Option<Json>, TemplateError> {
        if let Some((_, value)) = self.0.extra.iter().find(|(k, _)| k == name) {
            return to_json(value).map(Some);
        }
        let Some(raw) = self.0.vars.get(name) else {
            return Ok(None);
        };
        if !contains_template(raw) {
            return Ok(Some(raw.clone()));
        }
        {
            let mut resolving = self
                .0
                .resolving
                .lock()
                .map_err(|_| TemplateError("internal lock poisoned".into()))?;
            if resolving.iter().any(|n| n == name) || resolving.len() >= MAX_DEPTH {
                let mut chain = resolving.clone();
                chain.push(name.to_string());
                return Err(TemplateError(format!(
                    "variable `{name}` refers to itself: {}",
                    chain.join(" -> ")
                )));
            }
            resolving.push(name.to_string());
        }
        let result = self.0.templar.render_value(raw, self);
        if let Ok(mut resolving) = self.0.resolving.lock() {
            resolving.pop();
        }
        result
            .map(Some)
            .map_err(|e| TemplateError(format!("variable `{name}`: {e}")))
    }
}

fn contains_template(value: &Json) -> bool {
    match value {
        Json::String(s) => is_template(s),
        Json::Array(items) => items.iter().any(contains_template),
        Json::Object(map) => map.values().any(contains_template),
        _ => false,
    }
}

impl Object for ScopeInner {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if name == SCOPE {
            return Some(Value::from_dyn_object(Arc::clone(self)));
        }
        if let Some((_, value)) = self.extra.iter().find(|(k, _)| k == name) {
            return Some(value.clone());
        }
        let scope = Scope(Arc::clone(self));
        match scope.resolve(name) {
            Ok(found) => found.as_ref().map(from_json),
            Err(error) => {
                if let Ok(mut slot) = self.nested_error.lock() {
                    slot.get_or_insert(error);
                }
                None
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self.vars.keys().map(|k| Value::from(k.as_str())).collect();
        keys.extend(self.extra.iter().map(|(k, _)| Value::from(k.as_str())));
        Enumerator::Values(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(vars: Json) -> (Arc<Templar>, Scope) {
        let templar = Templar::new();
        let Json::Object(map) = vars else {
            panic!("test vars must be a map")
        };
        let scope = Scope::new(&templar, map);
        (templar, scope)
    }

    #[test]
    fn a_variable_alone_keeps_its_type_and_data_reads_back() {
        let (t, s) = scope(json!({"ports": [80, 443], "n": 3}));
        assert_eq!(t.render_string("{{ ports }}", &s).unwrap(), json!([80, 443]));
        assert_eq!(t.render_string("{{ n }}", &s).unwrap(), json!(3));
        assert_eq!(t.render_string("n={{ n }}", &s).unwrap(), json!("n=3"));
    }

    #[test]
    fn values_are_what_ansible_makes_of_their_text() {
        let (t, s) = scope(json!({"n": 3, "flag": true, "none": null, "lazy": "{{ 1 + 1 }}", "l": [1, "a", null]}));
        assert_eq!(t.render_string("{{ n + 1 }}", &s).unwrap(), json!("4"));
        assert_eq!(t.render_string("{{ lazy }}", &s).unwrap(), json!("2"));
        assert_eq!(t.render_string("{{ lazy == 2 }}", &s).unwrap(), json!(false));
        assert_eq!(
            t.render_string("x={{ flag }} {{ l }} {{ none }}", &s).unwrap(),
            json!("x=True [1, 'a', None] ")
        );
        assert_eq!(t.render_string("[{{ n }}, 2]", &s).unwrap(), json!([3, 2]));
        assert_eq!(t.render_string("{{ [1, 2] | to_json }}", &s).unwrap(), json!("[1, 2]"));
        assert_eq!(t.render_string("{{ 'True' }}", &s).unwrap(), json!(true));
        assert_eq!(t.render_string("{{ none }}", &s).unwrap(), json!(null));
        assert_eq!(t.render_string("{{ none | default(none) }}", &s).unwrap(), json!(""));
    }

    #[test]
    fn trailing_newlines_are_kept() {
        let (t, s) = scope(json!({"x": "hello", "l": [1]}));
        assert_eq!(t.render_string("{{ x }}\n", &s).unwrap(), json!("hello\n"));
        assert_eq!(t.render_string("{{ x }}\n\n", &s).unwrap(), json!("hello\n\n"));
        assert_eq!(t.render_string("a {{ x }}\n", &s).unwrap(), json!("a hello\n"));
        assert_eq!(t.render_string("{{ l }}\n", &s).unwrap(), json!([1]));
    }

    #[test]
    fn conditions_read_templated_text_as_ansible_does() {
        let (t, s) = scope(json!({"off": "False", "two": "{{ 1 + 1 }}"}));
        assert!(!t.eval_condition(&json!("{{ off }}"), &s).unwrap());
        assert!(t.eval_condition(&json!("two == '2'"), &s).unwrap());
    }

    #[test]
    fn undefined_is_named() {
        let (t, s) = scope(json!({"a": 1}));
        assert_eq!(
            t.render_string("{{ missing }}", &s).unwrap_err().0,
            "`missing` is undefined"
        );
        assert_eq!(
            t.render_string("x {{ a }} {{ nope }}", &s).unwrap_err().0,
            "`nope` is undefined"
        );
        assert_eq!(t.render_string("{{ missing | default('d') }}", &s).unwrap(), json!("d"));
    }

    #[test]
    fn missing_attribute_is_named() {
        let (t, s) = scope(json!({"result": {"stdout": "x"}}));
        assert_eq!(
            t.render_string("{{ result.stdoutt }}", &s).unwrap_err().0,
            "`result.stdoutt` is undefined"
        );
    }

    #[test]
    fn lazy_variables_render_on_read() {
        let (t, s) = scope(json!({"url": "http://{{ host }}:{{ port }}", "host": "prod", "port": 80}));
        assert_eq!(t.render_string("{{ url }}/x", &s).unwrap(), json!("http://prod:80/x"));
    }

    #[test]
    fn nested_undefined_names_both() {
        let (t, s) = scope(json!({"url": "http://{{ hostt }}"}));
        assert_eq!(
            t.render_string("{{ url }}", &s).unwrap_err().0,
            "variable `url`: `hostt` is undefined"
        );
    }

    #[test]
    fn self_reference_is_an_error() {
        let (t, s) = scope(json!({"a": "{{ b }}", "b": "{{ a }}"}));
        let err = t.render_string("{{ a }}", &s).unwrap_err().0;
        assert!(err.contains("refers to itself"), "{err}");
    }

    #[test]
    fn conditions() {
        let (t, s) = scope(json!({"x": 3, "flag": false}));
        assert!(t.eval_condition(&json!("x > 2"), &s).unwrap());
        assert!(!t.eval_condition(&json!("flag"), &s).unwrap());
        assert!(t.eval_condition(&json!("{{ x == 3 }}"), &s).unwrap());
        assert!(t.eval_condition(&json!(true), &s).unwrap());
        assert!(t.eval_condition(&json!("y is not defined"), &s).unwrap());
    }

    #[test]
    fn omit_drops_arguments() {
        let (t, s) = scope(json!({}));
        let out = t
            .render_value(&json!({"a": "{{ x | default(omit) }}", "b": 1}), &s)
            .unwrap();
        assert_eq!(out, json!({"b": 1}));
    }

    #[test]
    fn trim_blocks_like_ansible() {
        let (t, s) = scope(json!({"items": ["a", "b"]}));
        let text = "{% for i in items %}\n{{ i }}\n{% endfor %}\n";
        assert_eq!(t.render_string(text, &s).unwrap(), json!("a\nb\n"));
    }

    #[test]
    fn a_template_compiled_once_renders_each_scope() {
        let (t, first) = scope(json!({"host": "a"}));
        let (_, second) = scope(json!({"host": "b"}));
        assert_eq!(t.render_string("on {{ host }}", &first).unwrap(), json!("on a"));
        assert_eq!(t.render_string("on {{ host }}", &second).unwrap(), json!("on b"));
    }

    #[test]
    fn conditions_and_expressions_are_compiled_once_for_every_host() {
        let templar = Templar::new();
        for host in ["a", "b", "c"] {
            let vars = Vars::from_iter([("host".to_string(), json!(host)), ("n".to_string(), json!(2))]);
            let scope = Scope::new(&templar, vars);
            assert!(templar.eval_condition(&json!("n > 1"), &scope).unwrap());
            assert!(templar.eval_condition(&json!("{{ n > 1 }}"), &scope).unwrap());
            assert_eq!(templar.render_string("{{ n + 1 }}", &scope).unwrap(), json!("3"));
            assert_eq!(
                templar.render_string("on {{ host }}", &scope).unwrap(),
                json!(format!("on {host}"))
            );
        }
        // `n > 1` and `{{ n > 1 }}` share one compiled expression.
        assert_eq!(templar.compiled(), 3);
    }

    #[test]
    fn compiled_texts_kept_are_bounded_and_the_dropped_ones_compile_again() {
        let templar = Templar::new();
        let scope = Scope::new(&templar, Vars::from_iter([("n".to_string(), json!(1))]));
        for i in 0..KEPT_COMPILED - 1 {
            assert_eq!(
                templar.render_string(&format!("{{{{ n }}}}-{i}"), &scope).unwrap(),
                json!(format!("1-{i}"))
            );
        }
        assert_eq!(templar.render_string("{{ n }}-0", &scope).unwrap(), json!("1-0"));
        assert_eq!(
            templar.compiled(),
            KEPT_COMPILED - 1,
            "a kept text is not compiled again"
        );
        assert_eq!(templar.render_string("{{ n }}-new", &scope).unwrap(), json!("1-new"));
        assert_eq!(templar.render_string("{{ n }}-0", &scope).unwrap(), json!("1-0"));
        assert_eq!(
            templar.compiled(),
            KEPT_COMPILED + 1,
            "past the bound, texts compile in a fresh environment"
        );
        assert_eq!(templar.env().templates().count(), 1);
    }

    #[test]
    fn an_extended_scope_keeps_its_values_and_the_new_variables_win() {
        let templar = Templar::new();
        let shared = vec![
            ("groups".to_string(), Value::from(vec!["a", "b"])),
            ("item".to_string(), Value::from("shadowed")),
        ];
        let base = Scope::with_values(&templar, Vars::from_iter([("x".to_string(), json!(1))]), shared);
        let more = base.extended(Vars::from_iter([("item".to_string(), json!("new"))]));
        let text = "{{ x }} {{ groups | join(',') }} {{ item }}";
        assert_eq!(templar.render_string(text, &more).unwrap(), json!("1 a,b new"));
        assert_eq!(more.resolve("groups").unwrap(), Some(json!(["a", "b"])));
        assert!(more.sets("groups") && !more.sets("omit"));
    }

    #[test]
    fn runaway_loops_end_in_an_error() {
        let (t, s) = scope(json!({}));
        let err = t
            .render_string("{% for i in range(10**9) %}x{% endfor %}", &s)
            .unwrap_err()
            .0;
        assert!(err.contains("range has too many elements"), "{err}");
        let nested = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}";
        let err = t.render_string(nested, &s).unwrap_err().0;
        assert!(err.contains("too much work"), "{err}");
        let err = t.eval("range(99999) | map('string') | join * 99999", &s).unwrap_err().0;
        assert!(err.contains("too much work"), "{err}");
    }

    #[test]
    fn endless_recursion_ends_in_an_error() {
        let (t, s) = scope(json!({}));
        let text = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
        let err = t.render_string(text, &s).unwrap_err().0;
        assert!(err.contains("recursion"), "{err}");
    }

    #[test]
    fn syntax_errors_quote_the_template() {
        let (t, s) = scope(json!({}));
        let err = t.render_string("{{ x | }}", &s).unwrap_err().0;
        assert!(err.starts_with("template syntax error in `{{ x | }}`"), "{err}");
    }
}
