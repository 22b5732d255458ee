package workflows

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/report"
)

// RegisterInvestigation registers the investigation workflow and its activities.
func RegisterInvestigation(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(InvestigateThreat, workflow.RegisterOptions{Name: InvestigateWorkflow})
	RegisterHunting(r)
	r.RegisterActivity(acts)
}

// RegisterHunting registers the hunt workflow and the DV query gate (their
// activities are the investigation's Activities).
func RegisterHunting(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Hunt, workflow.RegisterOptions{Name: HuntWorkflow})
	r.RegisterWorkflowWithOptions(DVQueryGate, workflow.RegisterOptions{Name: DVGateWorkflow})
}

// RegisterControl registers the control workflow (kill switch and caps).
func RegisterControl(r worker.Registry) {
	r.RegisterWorkflowWithOptions(control.Workflow, workflow.RegisterOptions{Name: control.WorkflowName})
}

// RegisterReport registers the SOC report's workflow and activities.
func RegisterReport(r worker.Registry, acts *report.Activities) {
	r.RegisterWorkflowWithOptions(SOCReport, workflow.RegisterOptions{Name: SOCReportWorkflow})
	r.RegisterActivity(acts)
}

// NewReportActivities wires the SOC report's activities to the investigation's
// SentinelOne client and policy (its roles are the approver groups).
func NewReportActivities(cfg config.Config, acts *activities.Activities) *report.Activities {
	return report.New(cfg, acts.S1, func() map[string][]string {
		p := acts.Settings.Policy
		if acts.Policies != nil {
			if cur, err := acts.Policies.Current(); err == nil {
				p = cur
			}
		}
		return rolesOf(p)
	})
}

func rolesOf(p *policy.Policy) map[string][]string {
	if p == nil {
		return nil
	}
	return p.Roles
}

// InvestigationActivitySlots bounds the activities one worker runs at once on the
// investigation task queue. A model call holds its slot for the model's whole latency:
// at 50 slots, 300 threats arriving together queued behind each other's 800 ms calls,
// and the audit and settings activities behind those (BENCHMARKS.md, 09:08 run). A slot
// waiting on HTTP is a goroutine; the provider's own limits answer 429, which retries.
const InvestigationActivitySlots = 200

// NewWorkers builds the investigation workers of one process: one on the investigation
// task queue (workflows and the model/rules activities), one on the control workflow's
// own queue, and, unless cfg.WorkerS1Activities is off, one on the S1 task queue: this
// process's client then keeps SentinelOne's per-class limits for the whole fleet, and
// the queue's server-side rate is a backstop. onFatal may be nil.
func NewWorkers(c client.Client, cfg config.Config, acts *activities.Activities, onFatal func(error)) []worker.Worker {
	inv := worker.New(c, cfg.Temporal.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: InvestigationActivitySlots,
		WorkerStopTimeout:                  20 * time.Second,
		OnFatalError:                       onFatal,
	})
	RegisterInvestigation(inv, acts)
	rep := NewReportActivities(cfg, acts)
	RegisterReport(inv, rep)
	ctl := worker.New(c, cfg.Temporal.ControlTaskQueue(), worker.Options{
		WorkerStopTimeout: 20 * time.Second,
		OnFatalError:      onFatal,
	})
	RegisterControl(ctl)
	if !cfg.WorkerS1Activities {
		return []worker.Worker{inv, ctl}
	}
	s1 := worker.New(c, cfg.Temporal.S1TaskQueue, worker.Options{
		TaskQueueActivitiesPerSecond:       cfg.S1ActivitiesPerSecond,
		MaxConcurrentActivityExecutionSize: S1ActivitySlots(cfg),
		WorkerStopTimeout:                  20 * time.Second,
		OnFatalError:                       onFatal,
	})
	RegisterS1Activities(s1, acts)
	s1.RegisterActivity(rep) // the report's SentinelOne reads
	return []worker.Worker{inv, ctl, s1}
}

// S1ActivitySlots is how many SentinelOne activities the worker runs at once. Without
// coalescing, 20 keep the console's per-class buckets fed; with it, an outbreak's calls
// must be in flight together to share requests, and a call waiting for its batch costs
// a goroutine, not a request.
func S1ActivitySlots(cfg config.Config) int {
	if cfg.S1CoalesceWindow > 0 {
		return 1000
	}
	return 20
}

// RegisterS1Activities registers the activities for the S1 task queue. (All of them:
// registration is cheap, and only the S1 ones are ever scheduled there.)
func RegisterS1Activities(r worker.Registry, acts *activities.Activities) {
	r.RegisterActivity(acts)
}

// RegisterReplay registers the workflows on a replayer, under the names workers use.
func RegisterReplay(r worker.WorkflowReplayer) {
	r.RegisterWorkflowWithOptions(InvestigateThreat, workflow.RegisterOptions{Name: InvestigateWorkflow})
	r.RegisterWorkflowWithOptions(control.Workflow, workflow.RegisterOptions{Name: control.WorkflowName})
	RegisterHunting(r)
	r.RegisterWorkflowWithOptions(SOCReport, workflow.RegisterOptions{Name: SOCReportWorkflow})
}
