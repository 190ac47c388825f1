//! The command line's commands in the library's terms ([`Run`]), plus the two only the command
//! line knows (completions and the man page, which need clap's own description of it).

use crate::app::Command as Run;
use anyhow::Result;
use envinspect::render::View;
use envinspect::{
    ClusterFilter, ConnectionFilter, EndpointFilter, Filters, ListenerFilter, RouteFilter,
    ServiceFilter, WorkloadFilter,
};

use super::*;

/// What `main.rs` runs: a library command, or one that only the command line knows.
pub(crate) enum Todo {
    Run(Box<Run>),
    Completions(clap_complete::Shell),
    Man,
}

impl Cli {
    /// The command asked for, in the library's terms.
    pub(crate) fn todo(self) -> Result<Todo> {
        let stats = self.stats.clone();
        let show = |target: Target, view, filters, common: Common| -> Result<Todo> {
            Ok(Todo::Run(Box::new(Run::Show {
                origin: target.origin()?,
                view,
                filters,
                stats: if view == View::Report {
                    stats.clone()
                } else {
                    None
                },
                certs: common.certs.clone(),
                roots: None,
                format: common.format(),
                judge: common.when.judge()?,
            })))
        };
        let none = Filters::default;
        Ok(match self.command {
            None => show(self.target, View::Report, none(), self.common)?,
            Some(Command::Clusters {
                target,
                fqdn,
                port,
                subset,
                direction,
                common,
            }) => {
                let clusters = ClusterFilter {
                    fqdn,
                    port,
                    subset,
                    direction,
                };
                let filters = Filters { clusters, ..none() };
                show(target, View::Clusters, filters, common)?
            }
            Some(Command::Listeners {
                target,
                port,
                common,
            }) => {
                let filters = Filters {
                    listeners: ListenerFilter { port },
                    ..none()
                };
                show(target, View::Listeners, filters, common)?
            }
            Some(Command::Routes {
                target,
                name,
                common,
            }) => {
                let filters = Filters {
                    routes: RouteFilter { name },
                    ..none()
                };
                show(target, View::Routes, filters, common)?
            }
            Some(Command::Endpoints {
                target,
                cluster,
                port,
                common,
            }) => {
                let filters = Filters {
                    endpoints: EndpointFilter { cluster, port },
                    ..none()
                };
                show(target, View::Endpoints, filters, common)?
            }
            Some(Command::Workloads {
                target,
                namespace,
                node,
                workload,
                common,
            }) => {
                let filters = Filters {
                    workloads: WorkloadFilter {
                        namespace,
                        node,
                        workload,
                    },
                    ..none()
                };
                show(target, View::Workloads, filters, common)?
            }
            Some(Command::Services {
                target,
                namespace,
                common,
            }) => {
                let filters = Filters {
                    services: ServiceFilter { namespace },
                    ..none()
                };
                show(target, View::Services, filters, common)?
            }
            Some(Command::Connections {
                target,
                workload,
                common,
            }) => {
                let filters = Filters {
                    connections: ConnectionFilter { workload },
                    ..none()
                };
                show(target, View::Connections, filters, common)?
            }
            Some(Command::Secrets { target, common }) => {
                show(target, View::Secrets, none(), common)?
            }
            Some(Command::Certs {
                target,
                secret,
                roots,
                common,
            }) => Todo::Run(Box::new(Run::Show {
                origin: target.origin()?,
                view: View::Certs,
                filters: Filters { secret, ..none() },
                stats: None,
                certs: common.certs.clone(),
                roots,
                format: common.format(),
                judge: common.when.judge()?,
            })),
            Some(Command::Expect {
                min_time_left,
                output,
                when,
                target,
            }) => Todo::Run(Box::new(Run::Expect {
                origin: target.origin()?,
                min_time_left,
                format: output.format(),
                judge: when.judge()?,
            })),
            Some(Command::Check {
                expectations,
                output,
                when,
                target,
            }) => Todo::Run(Box::new(Run::Check {
                origin: target.origin()?,
                expectations,
                format: output.format(),
                judge: when.judge()?,
            })),
            Some(Command::Diff {
                before,
                after,
                output,
                when,
            }) => Todo::Run(Box::new(Run::Diff {
                before,
                after,
                format: output.format(),
                judge: when.judge()?,
            })),
            Some(Command::Authz {
                port,
                workload,
                request,
                common,
                target,
            }) => Todo::Run(Box::new(Run::Authz(crate::app::Authz {
                origin: target.origin()?,
                port,
                workload,
                request: request.request()?,
                format: common.format(),
                judge: common.when.judge()?,
            }))),
            Some(Command::Trace {
                args,
                inbound,
                app,
                request,
                common,
                live,
            }) => Todo::Run(Box::new(Run::Trace(crate::app::Trace {
                admin: live
                    .admin
                    .as_deref()
                    .map(|u| live.live.admin(u))
                    .transpose()?,
                args,
                inbound,
                app: app.map(|a| match a {
                    AppArg::Tls => envinspect::trace::AppProtocol::Tls,
                    AppArg::Plaintext => envinspect::trace::AppProtocol::Plaintext,
                }),
                request: request.request()?,
                format: common.format(),
                judge: common.when.judge()?,
            }))),
            Some(Command::Bundle {
                path,
                jobs,
                expectations,
                max_file_bytes,
                max_total_bytes,
                common,
            }) => Todo::Run(Box::new(Run::Bundle(crate::app::Bundle {
                path,
                jobs,
                expectations,
                limits: envinspect::bundle::Limits {
                    entry_bytes: max_file_bytes,
                    total_bytes: max_total_bytes,
                    ..Default::default()
                },
                certs: common.certs.clone(),
                format: common.format(),
                judge: common.when.judge()?,
            }))),
            Some(Command::ProxyStatus {
                inputs,
                proxy,
                jobs,
                output,
            }) => Todo::Run(Box::new(Run::ProxyStatus {
                inputs,
                proxy,
                jobs,
                limits: Default::default(),
                format: output.format(),
                // Sync states do not depend on the time: the clock, no redaction.
                judge: Default::default(),
            })),
            Some(Command::Explain {
                mut files,
                all,
                stats,
                common,
                live,
            }) => {
                // Refused, not ignored: explain has no report to pair /certs with.
                if common.certs.is_some() {
                    anyhow::bail!(
                        "explain: --certs adds findings to a report; explain does not print one (use it without a subcommand)"
                    );
                }
                // With an admin API every file is a log; without, the first is the dump.
                let origin = match live.admin.as_deref() {
                    Some(url) => Some(Origin::Admin(live.live.admin(url)?)),
                    None if files.is_empty() => None,
                    None => Some(app::file_origin(files.remove(0))),
                };
                let logs = files
                    .into_iter()
                    .map(|f| {
                        if f.as_os_str() == "-" {
                            app::LogOrigin::Stdin
                        } else {
                            app::LogOrigin::File(f)
                        }
                    })
                    .collect();
                Todo::Run(Box::new(Run::Explain {
                    origin,
                    logs,
                    all,
                    stats,
                    format: common.format(),
                    judge: common.when.judge()?,
                }))
            }
            Some(Command::Rules { output }) => Todo::Run(Box::new(Run::Rules {
                format: output.format(),
            })),
            Some(Command::Fetch { admin, save, live }) => Todo::Run(Box::new(Run::Fetch {
                admin: live.admin(&admin)?,
                save,
            })),
            Some(Command::Completions { shell }) => Todo::Completions(shell),
            Some(Command::Man) => Todo::Man,
        })
    }
}
