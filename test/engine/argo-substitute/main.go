// Command argo-substitute runs Argo Workflows' own code on one template, as the controller does
// when it runs a step: common.ProcessArgs (workflow/common/util.go: arguments over input
// defaults, then SubstituteParams: the template JSON-marshaled, globals then inputs replaced by
// util/template, `{{=…}}` expressions evaluated), then, for a resource template with
// setOwnerReference, the controller's yaml.Unmarshal of the manifest (workflow/controller/
// operator.go executeResource). It also runs the lint's parse of the unsubstituted manifest
// (workflow/validate/validate.go: SubstituteResourceManifestExpressions + yaml.Unmarshal).
//
// stdin: {"template": <Template>, "globals": {"workflow.name": …}, "arguments": {"parameters": […]}}
// stdout: {"manifest": <object the executor creates>} or {"error": "…"}; one JSON document per line
// of input, so one process serves many cases.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"
)

type input struct {
	Template  wfv1.Template     `json:"template"`
	Globals   map[string]string `json:"globals"`
	Arguments wfv1.Arguments    `json:"arguments"`
}

type output struct {
	Manifest  map[string]any `json:"manifest,omitempty"`
	Container *any           `json:"container,omitempty"`
	Error     string         `json:"error,omitempty"`
	LintError string         `json:"lintError,omitempty"`
}

func run(line []byte) output {
	var in input
	if err := json.Unmarshal(line, &in); err != nil {
		return output{Error: "bad input: " + err.Error()}
	}
	var out output
	if in.Template.Resource != nil {
		var lint any
		if err := yaml.Unmarshal([]byte(validate.SubstituteResourceManifestExpressions(in.Template.Resource.Manifest)), &lint); err != nil {
			out.LintError = err.Error()
		}
	}
	ctx := logging.InitLoggerInContext()
	tmpl, err := common.ProcessArgs(ctx, &in.Template, &in.Arguments, common.Parameters(in.Globals), common.Parameters{}, false, "ml", nil)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	if tmpl.Resource != nil {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(tmpl.Resource.Manifest), &obj); err != nil {
			out.Error = "manifest: " + err.Error()
			return out
		}
		out.Manifest = obj
	}
	if tmpl.Container != nil {
		var c any = tmpl.Container
		out.Container = &c
	}
	return out
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		if err := enc.Encode(run(sc.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
