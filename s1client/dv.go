package s1client

// Minimal Deep Visibility / Power Query shapes. The client deliberately has no DV methods
// yet: init-query is limited to 1 call per minute per token, so per-threat context comes from
// /threats/{id}/timeline instead (see design notes). These types only decode DV responses.

// DVQuery is the data of POST /dv/init-query and POST /dv/events/pq.
type DVQuery struct {
	QueryID string `json:"queryId"`
}

// DVQueryStatus is the data of GET /dv/query-status.
type DVQueryStatus struct {
	ResponseState  string   `json:"responseState"` // RUNNING, FINISHED, FAILED, …
	ProgressStatus FlexInt  `json:"progressStatus"`
	ResponseError  string   `json:"responseError"`
	Warnings       []string `json:"warnings"`
	QueryModeInfo  *struct {
		Mode            string `json:"mode"`
		LastActivatedAt Time   `json:"lastActivatedAt"`
	} `json:"queryModeInfo"`
}

// DVCancel is the data of POST /dv/cancel-query (success is a string, e.g. "FINISHED").
type DVCancel struct {
	Success FlexString `json:"success"`
}

// DVEvent is a small subset of a GET /dv/events item (legacy and newer field names).
type DVEvent struct {
	ID                FlexString `json:"id"`
	EventType         string     `json:"eventType"`
	ObjectType        string     `json:"objectType"`
	AgentID           FlexString `json:"agentId"`
	AgentName         string     `json:"agentName"`
	AgentUUID         string     `json:"agentUuid"`
	ProcessName       string     `json:"processName"`
	ProcessCmd        string     `json:"processCmd"`
	PID               FlexString `json:"pid"`
	ParentProcessName string     `json:"parentProcessName"`
	SrcProcName       string     `json:"srcProcName"`
	SrcProcCmdLine    string     `json:"srcProcCmdLine"`
	Storyline         string     `json:"storyline"`
	TrueContext       string     `json:"trueContext"`
	RelatedToThreat   FlexBool   `json:"relatedToThreat"`
	TaskName          string     `json:"taskName"`
	CreatedAt         Time       `json:"createdAt"`
	EventTime         Time       `json:"eventTime"`
}

// PowerQueryResult is the data of POST /dv/events/pq and GET /dv/events/pq-ping.
type PowerQueryResult struct {
	QueryID         string          `json:"queryId"`
	Status          string          `json:"status"`
	Progress        FlexInt         `json:"progress"`
	Columns         []PowerQueryCol `json:"columns"`
	Data            [][]any         `json:"data"`
	Recommendations []string        `json:"recommendations"`
}

// PowerQueryCol is a Power Query result column.
type PowerQueryCol struct {
	Name string `json:"name"`
	Type string `json:"type"`
}
