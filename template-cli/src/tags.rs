//! `sandbox-template tags add|remove|list`: the tags of a template's builds.

use std::process::ExitCode;

use crate::manage::{Service, one_line, print_json, print_table, with_client};

/// Add, remove or list the tags of a template.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Point tags at a build: `tags add my-template:v1 prod stable`.
    Add {
        /// The build to tag, as `name:tag` (e.g. `my-template:v1`).
        target: String,
        /// The tags to add.
        #[arg(required = true)]
        tags: Vec<String>,
        #[command(flatten)]
        service: Service,
    },
    /// Remove tags from a template: `tags remove my-template prod`.
    Remove {
        /// Template name.
        name: String,
        /// The tags to remove.
        #[arg(required = true)]
        tags: Vec<String>,
        #[command(flatten)]
        service: Service,
    },
    /// List the tags of a template and the builds they point to.
    List {
        /// Template ID or name.
        template: String,
        #[command(flatten)]
        service: Service,
    },
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let done = match &args.action {
        Action::Add { target, tags, service } => {
            with_client(service, 1, |c| async move { c.assign_tags(target, tags).await }).map(|assigned| {
                if service.json {
                    print_json(&assigned);
                } else {
                    let tags: Vec<String> = assigned.tags.iter().map(|t| one_line(t)).collect();
                    println!("Tagged build {}: {}", one_line(&assigned.build_id), tags.join(", "));
                }
            })
        }
        Action::Remove { name, tags, service } => {
            with_client(service, 1, |c| async move { c.remove_tags(name, tags).await }).map(|()| {
                if service.json {
                    print_json(&serde_json::json!({ "name": name, "removed": tags }));
                } else {
                    println!("Removed from {name}: {}", tags.join(", "));
                }
            })
        }
        Action::List { template, service } => {
            with_client(service, 1, |c| async move { c.get_tags(template).await }).map(|tags| {
                if service.json {
                    print_json(&tags);
                } else if tags.is_empty() {
                    println!("{template} has no tags");
                } else {
                    let rows: Vec<Vec<String>> =
                        tags.iter().map(|t| vec![t.tag.clone(), t.build_id.clone(), t.created_at.clone()]).collect();
                    print_table(&["TAG", "BUILD", "CREATED"], &rows);
                }
            })
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
