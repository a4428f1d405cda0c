//! The step graph of a play (petgraph): a step without `needs` follows the step before it, a step
//! with `needs` waits only for those, so independent branches run at the same time.

use std::collections::HashMap;
use std::fmt::Write as _;

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Error, suggest};
use crate::playbook::Step;

/// Steps as nodes (their index in the play), edges from a step to the steps that wait for it.
#[derive(Debug)]
pub struct StepGraph {
    graph: DiGraph<usize, ()>,
}

impl StepGraph {
    pub fn build(steps: &[Step]) -> Result<StepGraph, Error> {
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..steps.len()).map(|i| graph.add_node(i)).collect();
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (i, step) in steps.iter().enumerate() {
            if let Some(id) = &step.id
                && let Some(first) = ids.insert(id.as_str(), i)
            {
                return Err(Error::invalid(
                    step.span.clone(),
                    format!(
                        "two steps have the id `{id}` (the other is at line {})",
                        steps[first].span.line
                    ),
                )
                .with_help("give each step its own id"));
            }
        }
        for (i, step) in steps.iter().enumerate() {
            match &step.needs {
                None if i > 0 => {
                    graph.add_edge(nodes[i - 1], nodes[i], ());
                }
                None => {}
                Some(needs) => {
                    for (id, span) in needs {
                        let Some(&dep) = ids.get(id.as_str()) else {
                            return Err(Error::UnknownId {
                                span: span.clone(),
                                step: step.key(),
                                id: id.clone(),
                                suggestion: suggest(id, ids.keys().copied()),
                            });
                        };
                        graph.update_edge(nodes[dep], nodes[i], ());
                    }
                }
            }
        }
        let built = StepGraph { graph };
        built.check_cycles(steps)?;
        Ok(built)
    }

    fn check_cycles(&self, steps: &[Step]) -> Result<(), Error> {
        for component in tarjan_scc(&self.graph) {
            let cyclic = component.len() > 1 || component.iter().any(|&n| self.graph.contains_edge(n, n));
            if !cyclic {
                continue;
            }
            // Walk the cycle in dependency order, starting from the earliest step in the file.
            let members: Vec<NodeIndex> = component;
            let mut current = *members.iter().min_by_key(|n| self.graph[**n]).unwrap_or(&members[0]);
            let start = current;
            let mut path = Vec::new();
            loop {
                let step = &steps[self.graph[current]];
                path.push((step.key(), step.span.clone()));
                let next = self
                    .graph
                    .neighbors_directed(current, Direction::Incoming)
                    .filter(|n| members.contains(n))
                    .min_by_key(|n| self.graph[*n]);
                match next {
                    Some(n) if n != start && path.len() < members.len() => current = n,
                    _ => break,
                }
            }
            return Err(Error::Cycle { steps: path });
        }
        Ok(())
    }

    /// Indices of the steps a step waits for.
    pub fn dependencies(&self, step: usize) -> Vec<usize> {
        self.graph
            .neighbors_directed(NodeIndex::new(step), Direction::Incoming)
            .map(|n| self.graph[n])
            .collect()
    }

    /// Indices of the steps that wait for a step.
    pub fn dependents(&self, step: usize) -> Vec<usize> {
        self.graph
            .neighbors_directed(NodeIndex::new(step), Direction::Outgoing)
            .map(|n| self.graph[n])
            .collect()
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }
}

/// The plays' graphs as Graphviz DOT, one cluster per play.
pub fn to_dot(plays: &[(&str, &[Step], &StepGraph)]) -> String {
    let mut out = String::from("digraph bgrun {\n  rankdir=TB;\n  node [shape=box, style=rounded];\n");
    for (p, (name, steps, graph)) in plays.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{p} {{\n    label={};",
            quote(&format!("play: {name}"))
        );
        for (i, step) in steps.iter().enumerate() {
            let label = format!("{}\n{}", step.key(), step.kind_name());
            let _ = writeln!(out, "    p{p}s{i} [label={}];", quote(&label));
        }
        for i in 0..steps.len() {
            for d in graph.dependents(i) {
                let _ = writeln!(out, "    p{p}s{i} -> p{p}s{d};");
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

fn quote(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::load_text_for_tests as load_text;

    fn graph(text: &str) -> Result<(Vec<Step>, StepGraph), Error> {
        let mut book = load_text(text)?;
        let steps = std::mem::take(&mut book.plays[0].steps);
        let graph = StepGraph::build(&steps)?;
        Ok((steps, graph))
    }

    const HEAD: &str = "- hosts: all\n  steps:\n";

    #[test]
    fn steps_follow_each_other_by_default() {
        let (_, g) = graph(&format!(
            "{HEAD}    - debug: msg=a\n    - debug: msg=b\n    - debug: msg=c\n"
        ))
        .unwrap();
        assert_eq!(g.dependencies(0), Vec::<usize>::new());
        assert_eq!(g.dependencies(1), vec![0]);
        assert_eq!(g.dependencies(2), vec![1]);
    }

    #[test]
    fn needs_make_branches() {
        let text = format!(
            "{HEAD}    - {{id: a, debug: msg=a}}\n    - {{id: b, needs: [], debug: msg=b}}\n    - {{id: c, needs: [a, b], debug: msg=c}}\n"
        );
        let (_, g) = graph(&text).unwrap();
        assert!(g.dependencies(1).is_empty());
        let mut deps = g.dependencies(2);
        deps.sort();
        assert_eq!(deps, vec![0, 1]);
    }

    #[test]
    fn cycles_name_every_step() {
        let text =
            format!("{HEAD}    - {{id: a, needs: [b], debug: msg=a}}\n    - {{id: b, needs: [a], debug: msg=b}}\n");
        let err = graph(&text).unwrap_err().render();
        assert!(
            err.starts_with("error: dependency cycle between steps: `a` -> `b` -> `a`"),
            "{err}"
        );
        assert!(err.contains("`a` at play.yml:3:8"), "{err}");
        assert!(err.contains("`b` at play.yml:4:8"), "{err}");
    }

    #[test]
    fn unknown_id_suggests() {
        let text =
            format!("{HEAD}    - {{id: deploy, debug: msg=a}}\n    - {{id: t, needs: [deploi], debug: msg=b}}\n");
        let err = graph(&text).unwrap_err().render();
        assert!(
            err.contains("step `t` needs `deploi`, but no step of this play has that id"),
            "{err}"
        );
        assert!(err.ends_with("help: did you mean `deploy`?"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_errors() {
        let text = format!("{HEAD}    - {{id: a, debug: msg=a}}\n    - {{id: a, debug: msg=b}}\n");
        assert!(
            graph(&text)
                .unwrap_err()
                .to_string()
                .contains("two steps have the id `a`")
        );
    }

    #[test]
    fn dot_output() {
        let text = format!("{HEAD}    - {{id: a, debug: msg=a}}\n    - {{id: b, debug: msg=b}}\n");
        let (steps, g) = graph(&text).unwrap();
        insta::assert_snapshot!(to_dot(&[("web", &steps, &g)]));
    }
}
