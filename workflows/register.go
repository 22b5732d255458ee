package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
)

// RegisterInvestigation registers the investigation workflow and its activities.
func RegisterInvestigation(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(InvestigateThreat, workflow.RegisterOptions{Name: InvestigateWorkflow})
	r.RegisterActivity(acts)
}

// RegisterPoller registers the poll workflow and its activity.
func RegisterPoller(r worker.Registry, p *activities.Poller) {
	r.RegisterWorkflowWithOptions(PollThreats, workflow.RegisterOptions{Name: PollWorkflow})
	r.RegisterActivity(p)
}

// RegisterReplay registers the workflows on a replayer, under the names workers use.
func RegisterReplay(r worker.WorkflowReplayer) {
	r.RegisterWorkflowWithOptions(InvestigateThreat, workflow.RegisterOptions{Name: InvestigateWorkflow})
	r.RegisterWorkflowWithOptions(PollThreats, workflow.RegisterOptions{Name: PollWorkflow})
}
