//! Walks a parsed `.ctmpl` tree the way Go's text/template executes it: dot, variables and their
//! scopes, pipelines whose value becomes the last argument of the next command, Go's truth,
//! `range` over lists and maps (keys in order) with `else`, `break` and `continue`, and
//! `template` calls. Consul lookups that the catalog cannot answer yet are collected, and
//! rendering goes on with empty values.

use std::collections::HashMap;

use indexmap::IndexSet;
use regex::Regex;

use super::RenderContext;
use super::catalog::{Catalog, Dependency};
use super::funcs::{self, FnError};
use super::parse::{Arg, Command, Control, Node, OffsetError, Parsed, Pipe};
use super::value::{MAX_TEXT, Value};

type XResult<T> = Result<T, OffsetError>;

/// How a list of nodes ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// How deep `{{template}}` calls may nest.
const MAX_TEMPLATE_DEPTH: usize = 50;

/// The largest int `range` counts up to.
const MAX_RANGE_INT: i64 = 1_000_000;

/// How many nodes, loop turns and calls one rendering may take.
const MAX_STEPS: u64 = 10_000_000;

/// How deep blocks may nest while rendering, counting the blocks of called templates.
const MAX_WALK_DEPTH: usize = 150;

pub(crate) struct Exec<'a> {
    parsed: &'a Parsed,
    /// The file's own name, which `{{template}}` may call.
    name: &'a str,
    pub catalog: &'a dyn Catalog,
    pub ctx: &'a RenderContext,
    vars: Vec<(String, Value)>,
    pub missing: IndexSet<Dependency>,
    pub out: String,
    depth: usize,
    walk_depth: usize,
    steps: u64,
    pub regexes: HashMap<String, Regex>,
}

impl<'a> Exec<'a> {
    pub fn new(parsed: &'a Parsed, name: &'a str, catalog: &'a dyn Catalog, ctx: &'a RenderContext) -> Self {
        Exec {
            parsed,
            name,
            catalog,
            ctx,
            vars: vec![("$".into(), Value::Missing)],
            missing: IndexSet::new(),
            out: String::new(),
            depth: 0,
            walk_depth: 0,
            steps: 0,
            regexes: HashMap::new(),
        }
    }

    /// Records a dependency the catalog could not answer.
    pub fn need(&mut self, dependency: Dependency) {
        self.missing.insert(dependency);
    }

    /// Renders the main template; dot (and `$`) start as nil, as consul-template runs them.
    pub fn run(&mut self) -> XResult<()> {
        let root = &self.parsed.root;
        self.walk(&Value::Missing, root)?;
        Ok(())
    }

    /// Counts work and output, refusing templates that would never finish.
    fn step(&mut self, pos: usize) -> XResult<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(
                OffsetError::new(pos, format!("rendering takes more than {MAX_STEPS} steps"))
                    .help("look for a `range` or `loop` that runs far longer than intended"),
            );
        }
        if self.out.len() > MAX_TEXT {
            return Err(OffsetError::new(
                pos,
                format!("the rendered text grows past {} MiB", MAX_TEXT >> 20),
            ));
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node]) -> XResult<Flow> {
        self.walk_depth += 1;
        let flow = if self.walk_depth > MAX_WALK_DEPTH {
            let pos = nodes.first().map(node_pos).unwrap_or(0);
            Err(OffsetError::new(
                pos,
                format!("blocks nest more than {MAX_WALK_DEPTH} deep while rendering"),
            )
            .help("a template that calls itself needs a condition that stops it"))
        } else {
            self.walk_nodes(dot, nodes)
        };
        self.walk_depth -= 1;
        flow
    }

    fn walk_nodes(&mut self, dot: &Value, nodes: &[Node]) -> XResult<Flow> {
        for node in nodes {
            self.step(node_pos(node))?;
            let flow = match node {
                Node::Text(text) => {
                    self.out.push_str(text);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let value = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        value.print_action(&mut self.out);
                    }
                    Flow::Normal
                }
                Node::If(control) => self.walk_if_or_with(dot, control, false)?,
                Node::With(control) => self.walk_if_or_with(dot, control, true)?,
                Node::Range(control) => self.walk_range(dot, control)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
                Node::Template { pos, name, pipe } => self.walk_template(dot, *pos, name, pipe.as_ref())?,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, dot: &Value, control: &Control, with: bool) -> XResult<Flow> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &control.pipe)?;
        let flow = if value.truth() {
            let inner = if with { value } else { dot.clone() };
            self.walk(&inner, &control.list)?
        } else if let Some(else_list) = &control.else_list {
            self.walk(dot, else_list)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value, control: &Control) -> XResult<Flow> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &control.pipe)?;
        let inner_mark = self.vars.len();
        let items: Vec<(Value, Value)> = match &value {
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::Map(m) => m
                .entries
                .iter()
                .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                .collect(),
            Value::Int(n) => {
                if control.pipe.decl.len() > 1 {
                    return Err(OffsetError::new(
                        control.pipe.pos,
                        format!("cannot range over the int {n} with two variables"),
                    ));
                }
                if *n > MAX_RANGE_INT {
                    return Err(OffsetError::new(
                        control.pipe.pos,
                        format!("`range {n}` is more than bgrun counts to"),
                    ));
                }
                (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect()
            }
            Value::Missing | Value::Nil => Vec::new(),
            other => {
                return Err(OffsetError::new(
                    control.pipe.pos,
                    format!("`range` cannot iterate over {} `{}`", other.go_type(), other.to_v()),
                )
                .help("`range` walks a list (like `service \"name\"`) or a map"));
            }
        };
        let decl = &control.pipe.decl;
        let mut ran = false;
        for (index, elem) in items {
            ran = true;
            self.step(control.pipe.pos)?;
            if control.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(control.pipe.pos, &decl[0], index.clone())?;
                    self.set_var(control.pipe.pos, &decl[1], elem.clone())?;
                } else if let Some(name) = decl.first() {
                    self.set_var(control.pipe.pos, name, elem.clone())?;
                }
            } else {
                let top = self.vars.len();
                if !decl.is_empty()
                    && let Some(slot) = self.vars.get_mut(top - 1)
                {
                    slot.1 = elem.clone();
                }
                if decl.len() > 1
                    && let Some(slot) = self.vars.get_mut(top - 2)
                {
                    slot.1 = index;
                }
            }
            let flow = self.walk(&elem, &control.list)?;
            self.vars.truncate(inner_mark);
            if flow == Flow::Break {
                break;
            }
        }
        if !ran && let Some(else_list) = &control.else_list {
            let flow = self.walk(dot, else_list)?;
            self.vars.truncate(mark);
            return Ok(flow);
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn walk_template(&mut self, dot: &Value, pos: usize, name: &str, pipe: Option<&Pipe>) -> XResult<Flow> {
        let body = match self.parsed.defines.get(name) {
            Some(body) => body,
            None if name == self.name => &self.parsed.root,
            None => {
                let names = self.parsed.defines.keys().map(String::as_str);
                let help = match crate::error::suggest(name, names) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("define it with `{{{{define \"{name}\"}}}}...{{{{end}}}}`"),
                };
                return Err(OffsetError::new(pos, format!("no template named `{name}`")).help(help));
            }
        };
        let value = match pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Value::Missing,
        };
        if self.depth >= MAX_TEMPLATE_DEPTH {
            return Err(OffsetError::new(
                pos,
                format!("templates call each other more than {MAX_TEMPLATE_DEPTH} deep"),
            )
            .help("a template that calls itself needs a condition that stops it"));
        }
        self.depth += 1;
        let saved = std::mem::replace(&mut self.vars, vec![("$".into(), value.clone())]);
        let result = self.walk(&value, body);
        self.vars = saved;
        self.depth -= 1;
        result.map(|_| Flow::Normal)
    }

    fn lookup_var(&self, pos: usize, name: &str) -> XResult<Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| OffsetError::new(pos, format!("variable `{name}` is not set here")))
    }

    fn set_var(&mut self, pos: usize, name: &str, value: Value) -> XResult<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(OffsetError::new(pos, format!("variable `{name}` is not set here"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> XResult<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?.dig());
        }
        let value = value.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(pipe.pos, name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, last: &Option<Value>) -> XResult<()> {
        if cmd.args.len() > 1 || last.is_some() {
            let pos = cmd.args.first().map(Arg::pos).unwrap_or(0);
            return Err(
                OffsetError::new(pos, "this value cannot take arguments, it is not a function")
                    .help("only functions take arguments and piped values"),
            );
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Command, last: Option<Value>) -> XResult<Value> {
        let Some(first) = cmd.args.first() else {
            return Ok(Value::Missing);
        };
        let rest = &cmd.args[1..];
        match first {
            Arg::Field { pos, names } => self.eval_field_chain(dot, dot.clone(), *pos, names, rest, last),
            Arg::Chain { pos, base, fields } => {
                let receiver = self.eval_arg(dot, base)?;
                self.eval_field_chain(dot, receiver, *pos, fields, rest, last)
            }
            Arg::Variable { pos, name, fields } => {
                let value = self.lookup_var(*pos, name)?;
                if fields.is_empty() {
                    self.not_a_function(cmd, &last)?;
                    return Ok(value);
                }
                self.eval_field_chain(dot, value, *pos, fields, rest, last)
            }
            Arg::Func { pos, name } => self.call(dot, *pos, name, rest, last),
            Arg::Pipe(pipe) => {
                self.not_a_function(cmd, &last)?;
                self.eval_pipeline(dot, pipe)
            }
            Arg::Nil(pos) => {
                Err(OffsetError::new(*pos, "`nil` is not a command").help("`nil` can only be an argument"))
            }
            literal => {
                self.not_a_function(cmd, &last)?;
                self.eval_arg(dot, literal)
            }
        }
    }

    /// The value of an argument.
    fn eval_arg(&mut self, dot: &Value, arg: &Arg) -> XResult<Value> {
        Ok(match arg {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => Value::Nil,
            Arg::Bool(_, b) => Value::Bool(*b),
            Arg::Int(_, n) => Value::Int(*n),
            Arg::Float(_, f) => Value::Float(*f),
            Arg::Str(_, s) => Value::str(s.as_str()),
            Arg::Field { pos, names } => self.eval_field_chain(dot, dot.clone(), *pos, names, &[], None)?,
            Arg::Variable { pos, name, fields } => {
                let value = self.lookup_var(*pos, name)?;
                self.eval_field_chain(dot, value, *pos, fields, &[], None)?
            }
            Arg::Chain { pos, base, fields } => {
                let receiver = self.eval_arg(dot, base)?;
                self.eval_field_chain(dot, receiver, *pos, fields, &[], None)?
            }
            Arg::Func { pos, name } => self.call(dot, *pos, name, &[], None)?,
            Arg::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
        })
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        pos: usize,
        names: &[String],
        args: &[Arg],
        last: Option<Value>,
    ) -> XResult<Value> {
        let Some((final_name, path)) = names.split_last() else {
            return Ok(receiver);
        };
        for name in path {
            receiver = self.eval_field(dot, pos, name, receiver, &[], None)?;
        }
        self.eval_field(dot, pos, final_name, receiver, args, last)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        pos: usize,
        name: &str,
        receiver: Value,
        args: &[Arg],
        last: Option<Value>,
    ) -> XResult<Value> {
        let has_args = !args.is_empty() || last.is_some();
        match &receiver {
            Value::Missing => Ok(Value::Missing),
            Value::Record(record) => {
                if let Some(value) = record.field(name) {
                    if has_args {
                        return Err(OffsetError::new(
                            pos,
                            format!("`.{name}` is a field, it cannot take arguments"),
                        ));
                    }
                    return Ok(value.clone());
                }
                let names: Vec<&str> = record.field_names().collect();
                let help = match crate::error::suggest(name, names.iter().copied()) {
                    Some(close) => format!("did you mean `.{close}`?"),
                    None => format!(
                        "its fields are {}",
                        names.iter().map(|n| format!(".{n}")).collect::<Vec<_>>().join(", ")
                    ),
                };
                Err(OffsetError::new(pos, format!("`.{name}` is not a field of {}", record.kind.describe())).help(help))
            }
            Value::List(items) if name == "Contains" && items.iter().all(|v| matches!(v, Value::Str(_))) => {
                // consul-template's `ServiceTags.Contains`: `{{if .Tags.Contains "blue"}}`.
                let mut values = Vec::new();
                for arg in args {
                    values.push(self.eval_arg(dot, arg)?);
                }
                values.extend(last);
                match values.as_slice() {
                    [Value::Str(tag)] => Ok(Value::Bool(items.iter().any(|v| v.as_str() == Some(tag)))),
                    _ => Err(OffsetError::new(pos, "`.Tags.Contains` takes one string")
                        .help("write `.Tags.Contains \"tag\"`")),
                }
            }
            Value::Map(map) => {
                if has_args {
                    return Err(OffsetError::new(
                        pos,
                        format!("`.{name}` is a map key, it cannot take arguments"),
                    ));
                }
                Ok(map.entries.get(name).cloned().unwrap_or(Value::Missing))
            }
            Value::Nil => Err(OffsetError::new(pos, format!("cannot read `.{name}` of nil"))),
            other => Err(OffsetError::new(
                pos,
                format!("cannot read `.{name}` of {} `{}`", other.go_type(), other.to_v()),
            )
            .help("fields exist on services, key pairs, nodes and maps")),
        }
    }

    fn call(&mut self, dot: &Value, pos: usize, name: &str, args: &[Arg], last: Option<Value>) -> XResult<Value> {
        if name == "and" || name == "or" {
            // Go's `and` and `or` stop at the first value that decides the result.
            if args.is_empty() && last.is_none() {
                return Err(OffsetError::new(pos, format!("`{name}` needs at least one argument")));
            }
            let mut value = Value::Missing;
            for arg in args {
                value = self.eval_arg(dot, arg)?;
                if value.truth() == (name == "or") {
                    return Ok(value);
                }
            }
            return Ok(last.unwrap_or(value));
        }
        self.step(pos)?;
        let mut values = Vec::with_capacity(args.len() + 1);
        for arg in args {
            values.push(self.eval_arg(dot, arg)?);
        }
        values.extend(last);
        let value = funcs::call(self, name, values).map_err(|FnError { message, help }| {
            let error = OffsetError::new(pos, message);
            match help {
                Some(help) => error.help(help),
                None => error,
            }
        })?;
        if let Value::Str(s) = &value
            && s.len() > MAX_TEXT
        {
            return Err(OffsetError::new(
                pos,
                format!("`{name}` makes a string longer than {} MiB", MAX_TEXT >> 20),
            ));
        }
        Ok(value)
    }
}

/// Where a node starts, for errors about it.
fn node_pos(node: &Node) -> usize {
    match node {
        Node::Action(pipe) => pipe.pos,
        Node::If(c) | Node::With(c) | Node::Range(c) => c.pipe.pos,
        Node::Template { pos, .. } => *pos,
        Node::Text(_) | Node::Break | Node::Continue => 0,
    }
}
