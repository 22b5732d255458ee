package s1ql_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/s1copilot/s1copilot/hunt/s1ql"
)

func ExampleParse() {
	q, err := s1ql.Parse(`eventtype = "Process Creation" and srcprocname in anycase ("POWERSHELL.EXE") and srcproccmdline containscis "-enc "`)
	if err != nil {
		fmt.Println(err)
		return
	}
	event := map[string]string{"EventType": "Process Creation", "SrcProcName": "powershell.exe", "SrcProcCmdLine": "powershell -nop -enc SQBFAFgA"}
	fmt.Println(q.String())
	fmt.Println(q.Match(func(field string) string { return event[field] }))

	_, err = s1ql.Parse(`SrcProcCmdline2 ContainsCIS "-enc"`)
	fmt.Println(strings.SplitN(err.Error(), ";", 2)[0])
	// Output:
	// EventType = "Process Creation" AND SrcProcName In Anycase ("POWERSHELL.EXE") AND SrcProcCmdLine ContainsCIS "-enc "
	// true
	// s1ql: at character 1: unknown field “SrcProcCmdline2” (did you mean SrcProcCmdLine?)
}

func TestDescribe(t *testing.T) {
	d := s1ql.Describe()
	for _, f := range s1ql.Fields() {
		if !strings.Contains(d, "- "+f.Name+" ("+string(f.Type)+"): ") {
			t.Errorf("Describe lacks %s", f.Name)
		}
	}
	for _, want := range []string{"In Contains Anycase", "Registry Value Modified", "10000 characters"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe lacks %q", want)
		}
	}
}
