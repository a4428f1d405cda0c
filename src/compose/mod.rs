//! Compose files read exactly as docker-compose 1.29 reads them, so that the containers bgrun
//! creates get the names and labels docker-compose gives its own (and docker-compose takes them
//! for its own), and docker-compose's containers are recognised by bgrun.
//!
//! [`load`] reads one or more files (later files override earlier ones), version 1 (services at
//! the top level, `extends`, `links`) and versions 2 and 3 (`services:`, `networks:`,
//! `volumes:`), substitutes `${VARIABLES}` from the given environment and a `.env` file beside
//! the first file, and resolves every service into what creating its containers takes. The
//! [`Project`] then gives container names ([`Project::container_name`]), labels
//! ([`Project::container_labels`]) with docker-compose's `config-hash`
//! ([`Project::config_hash`]), and the order to start services in ([`Project::start_order`]).
//!
//! Nothing here talks to Docker: the image ID the hash includes is the caller's to supply.

mod build;
mod config;
mod env;
mod interp;
mod model;
mod py;
mod schema;
mod types;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use indexmap::IndexMap;

pub use model::{
    COMPOSE_VERSION, Healthcheck, LABEL_CONFIG_FILES, LABEL_CONFIG_HASH, LABEL_CONTAINER_NUMBER, LABEL_ONE_OFF,
    LABEL_PROJECT, LABEL_SERVICE, LABEL_VERSION, LABEL_WORKING_DIR, Link, Logging, Mount, Network, NetworkMode,
    PortBinding, Project, RestartPolicy, Service, ServiceNetwork, Volume, VolumesFrom, json_hash,
    normalize_project_name,
};

use crate::error::Error;
use crate::source::Span;
use config::{Finalized, LoadedFile, Loader};
use env::{EnvFileError, Environment, read_env_file};

/// The files docker-compose reads when given no `-f`, from `dir` (normally `.`): those named
/// by `COMPOSE_FILE` (split on `COMPOSE_PATH_SEPARATOR`, default `:`), else the first of
/// `docker-compose.yml`, `docker-compose.yaml`, `compose.yml`, `compose.yaml` found in `dir` or
/// the nearest parent, with its `docker-compose.override.yml` (or `.yaml`, `compose.override.*`).
pub fn default_files(dir: &std::path::Path, env: &HashMap<String, String>) -> Result<Vec<PathBuf>, Error> {
    const NAMES: [&str; 4] = [
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yml",
        "compose.yaml",
    ];
    const OVERRIDES: [&str; 4] = [
        "docker-compose.override.yml",
        "docker-compose.override.yaml",
        "compose.override.yml",
        "compose.override.yaml",
    ];
    if let Some(files) = env.get("COMPOSE_FILE").filter(|f| !f.is_empty()) {
        let sep = env.get("COMPOSE_PATH_SEPARATOR").map_or(":", String::as_str);
        return Ok(files.split(sep).map(|f| dir.join(f)).collect());
    }
    let mut at = dir.to_path_buf();
    for _ in 0..256 {
        if let Some(name) = NAMES.iter().find(|n| at.join(n).exists()) {
            let overrides: Vec<PathBuf> = OVERRIDES.iter().map(|o| at.join(o)).filter(|p| p.exists()).collect();
            if overrides.len() > 1 {
                let list = overrides
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Error::usage(format!("multiple override files found: {list}"))
                    .with_help("docker-compose reads only one override file; remove the others"));
            }
            let mut files = vec![at.join(name)];
            files.extend(overrides);
            return Ok(files);
        }
        let parent = at.join("..");
        let at_root = match (at.canonicalize(), parent.canonicalize()) {
            (Ok(here), Ok(up)) => here == up,
            _ => true,
        };
        if at_root {
            break;
        }
        at = parent;
    }
    Err(
        Error::usage("can't find a suitable Compose file in this directory or any parent")
            .with_help(format!("supported file names: {}", NAMES.join(", "))),
    )
}

/// Reads Compose files into a project, as `docker-compose -f <file> ... [-p <name>]` run from the
/// current directory would. `env` plays the process environment: it overrides the `.env` file
/// beside the first file, and gives `COMPOSE_PROJECT_NAME` and `HOME`.
pub fn load(files: &[PathBuf], project_name: Option<&str>, env: &HashMap<String, String>) -> Result<Project, Error> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the current directory: {e}")))?
        .to_string_lossy()
        .into_owned();
    load_in(files, project_name, env, &cwd)
}

/// [`load`] with the directory relative paths are taken from.
pub fn load_in(
    files: &[PathBuf],
    project_name: Option<&str>,
    env: &HashMap<String, String>,
    cwd: &str,
) -> Result<Project, Error> {
    if files.is_empty() {
        return Err(Error::usage("no Compose file given").with_help("name one, e.g. docker-compose.yml"));
    }
    let given: Vec<String> = files.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let joined: Vec<String> = given.iter().map(|g| py::join(".", g)).collect();
    let absolute: Vec<String> = joined.iter().map(|j| py::abspath(j, cwd)).collect();
    let shown: Vec<String> = joined.iter().map(|j| py::normpath(j)).collect();

    // docker-compose's project directory: that of the first file.
    let override_dir = py::dirname(&given[0]);
    let working_dir = if override_dir.is_empty() {
        py::dirname(&joined[0])
    } else {
        override_dir.clone()
    };
    let working_dir = py::abspath(&working_dir, cwd);
    let env_dir = if override_dir.is_empty() {
        "."
    } else {
        override_dir.as_str()
    };
    let env_path = py::abspath(&py::join(env_dir, ".env"), cwd);
    let dotenv = match read_env_file(std::path::Path::new(&env_path), env) {
        Ok(values) => Some(values),
        Err(EnvFileError::NotFound | EnvFileError::NotAFile) => None,
        Err(EnvFileError::Unreadable(e)) => {
            return Err(Error::usage(format!("cannot read `{env_path}`: {e}")));
        }
    };
    let environment = Environment::new(dotenv, env);

    let requested = project_name.filter(|n| !n.is_empty()).map(str::to_string);
    let from_env = environment.value("COMPOSE_PROJECT_NAME").map(str::to_string);
    let name = match requested.or(from_env) {
        Some(n) => normalize_project_name(&n),
        None => {
            let base = py::basename(&working_dir);
            if base.is_empty() {
                "default".to_string()
            } else {
                normalize_project_name(base)
            }
        }
    };
    if name.is_empty() {
        return Err(Error::usage("the project name is empty once normalised")
            .with_help("project names may use only letters, digits, `-` and `_`; give one with -p"));
    }

    let mut loader = Loader::new(cwd.to_string(), &environment, env);
    let mut loaded: Vec<Rc<LoadedFile>> = Vec::new();
    for i in 0..files.len() {
        loaded.push(loader.load_file(&absolute[i], &shown[i], &given[i])?);
    }
    let main = Rc::clone(&loaded[0]);
    for other in &loaded[1..] {
        if other.v1 != main.v1 {
            return Err(Error::invalid(
                other.root_span.clone(),
                format!(
                    "version mismatch: {} is version {} but {} is version {}",
                    main.shown, main.version, other.shown, other.version
                ),
            )
            .with_help("files merged together must all be version 1, or all versions 2 and 3"));
        }
    }

    let networks_cfg = config::load_mapping(&loader, &loaded, "network", &working_dir)?;
    let volumes_cfg = config::load_mapping(&loader, &loaded, "volume", &working_dir)?;
    let secrets_cfg = config::load_mapping(&loader, &loaded, "secret", &working_dir)?;

    // Merge the same service across files.
    let mut merged = main.services.clone();
    for other in &loaded[1..] {
        for (svc, key_span, over) in other.services.iter_spans() {
            let empty = value::Dict::new();
            let base = merged
                .get(svc)
                .and_then(value::Val::as_map)
                .cloned()
                .unwrap_or_default();
            let over_d = over.as_map().unwrap_or(&empty);
            let what = format!("service `{svc}`");
            let m = config::merge_from_files(&base, over_d, main.v1, key_span, &what)?;
            merged.insert(svc.clone(), key_span.clone(), value::Val::map(m, &over.span));
        }
        // Services only in earlier files go through the same merge (with nothing on top).
        let names: Vec<String> = merged.keys().filter(|k| !other.services.contains(k)).cloned().collect();
        for svc in names {
            let Some(base) = merged.get(&svc).cloned() else {
                continue;
            };
            let base_d = base.as_map().cloned().unwrap_or_default();
            let what = format!("service `{svc}`");
            let m = config::merge_from_files(&base_d, &value::Dict::new(), main.v1, &base.span, &what)?;
            merged.set(svc, value::Val::map(m, &base.span));
        }
    }

    let names: Vec<String> = merged.keys().cloned().collect();
    let mut finalized: Vec<Finalized> = Vec::new();
    for (svc, key_span, body) in merged.iter_spans() {
        let what = format!("service `{svc}`");
        let d = body.as_map().cloned().unwrap_or_default();
        let at = config::ServiceAt {
            file: &main.path,
            working_dir: &working_dir,
            name: svc,
            span: key_span,
        };
        let resolved = loader.resolve_service(&main, &at, &d, &Vec::new())?;
        let processed = config::process_service(&loader, &resolved, &working_dir, &what)?;
        config::validate_service(svc, &processed, key_span, &names, main.v1)?;
        finalized.push(config::finalize_service(
            &loader, svc, key_span, &processed, &names, main.v1,
        )?);
    }
    let order = dependency_order(&finalized)?;

    if !main.v1 {
        for f in &finalized {
            for item in f.dict.get("volumes").and_then(value::Val::as_list).unwrap_or_default() {
                let (named, source, repr) = match &item.v {
                    value::V::Volume(v) => (v.is_named_volume(), v.external.clone(), v.repr()),
                    value::V::Mount(m) => (m.is_named_volume(), m.source.clone(), m.as_volume_spec().repr()),
                    _ => continue,
                };
                if named && source.as_ref().is_some_and(|s| !volumes_cfg.contains_key(s)) {
                    return Err(Error::invalid(
                        item.span.clone(),
                        format!("service `{}`: named volume \"{repr}\" is used but not declared in the top-level `volumes:`", f.name),
                    )
                    .with_help(format!(
                        "add `volumes: {{{}: {{}}}}` at the top level, or use a path (./{0}) for a bind mount",
                        source.unwrap_or_default()
                    )));
                }
            }
        }
    }

    let ctx = build::Context {
        project: &name,
        v1: main.v1,
        cwd,
        networks: &networks_cfg,
        volumes: &volumes_cfg,
        secrets: &secrets_cfg,
        service_names: &names,
    };
    let networks = build::networks(&ctx);
    let volumes = build::volumes(&ctx);
    let mut warnings = std::mem::take(&mut loader.warnings);
    let mut with_configs: Vec<&str> = finalized
        .iter()
        .filter(|f| f.dict.get("configs").is_some_and(value::Val::truthy))
        .map(|f| f.name.as_str())
        .collect();
    with_configs.sort_unstable();
    if !with_configs.is_empty() {
        warnings.push(format!(
            "Some services ({}) use the 'configs' key, which will be ignored. Compose does not support 'configs' \
             configuration - use `docker stack deploy` to deploy to a swarm.",
            with_configs.join(", ")
        ));
    }
    let mut services: IndexMap<String, Service> = IndexMap::new();
    for f in &finalized {
        services.insert(
            f.name.clone(),
            build::service(&ctx, f, &networks, &volumes, &mut warnings)?,
        );
    }
    build::fill_container_links(&name, &mut services);
    if !main.v1 {
        let used: Vec<&String> = services.values().flat_map(|s| s.networks.keys()).collect();
        let unused: Vec<&str> = networks
            .iter()
            .filter(|(n, net)| *n != "default" && !used.contains(&&net.full_name))
            .map(|(n, _)| n.as_str())
            .collect();
        if !unused.is_empty() {
            warnings.push(format!(
                "Some networks were defined but are not used by any service: {}",
                unused.join(", ")
            ));
        }
    }

    Ok(Project {
        name,
        working_dir,
        config_files: shown,
        v1: main.v1,
        services,
        networks,
        volumes,
        warnings,
        order,
    })
}

/// Services with their dependencies first (ties in file order); a cycle is an error that names
/// the services in it.
fn dependency_order(services: &[Finalized]) -> Result<Vec<String>, Error> {
    let index: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let deps: Vec<Vec<(usize, Span)>> = services
        .iter()
        .map(|s| {
            config::dependencies(s)
                .into_iter()
                .filter_map(|(name, span)| index.get(name.as_str()).map(|&i| (i, span)))
                .collect::<Vec<_>>()
        })
        .collect();
    // Dependencies in file order, so that services that do not depend on each other keep it.
    let mut deps = deps;
    for d in &mut deps {
        d.sort_by_key(|(i, _)| *i);
    }
    // 0: not seen, 1: on the current path, 2: done.
    let mut state = vec![0u8; services.len()];
    let mut order = Vec::new();
    for start in 0..services.len() {
        if state[start] != 0 {
            continue;
        }
        // Iterative depth-first search: (service, next dependency to look at).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some((dep, span)) = deps[node].get(*next) {
                *next += 1;
                match state[*dep] {
                    0 => {
                        state[*dep] = 1;
                        stack.push((*dep, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| n == dep).unwrap_or(0);
                        let mut names: Vec<String> = stack[from..]
                            .iter()
                            .map(|(n, _)| format!("`{}`", services[*n].name))
                            .collect();
                        names.push(format!("`{}`", services[*dep].name));
                        let message = if *dep == node {
                            format!("service `{}` depends on itself", services[node].name)
                        } else {
                            format!("dependency cycle between services: {}", names.join(" -> "))
                        };
                        return Err(Error::invalid(span.clone(), message).with_help(
                            "`links`, `depends_on`, `volumes_from` and `network_mode: service:...` each make a service \
                             start after another; remove one of them",
                        ));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                order.push(services[node].name.clone());
                stack.pop();
            }
        }
    }
    Ok(order)
}
