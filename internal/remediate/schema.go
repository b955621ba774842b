package remediate

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSONSchema is the JSON Schema (draft 2020-12) of a teamslink.plan/v1
// document; ReadPlan validates every plan against it.
//
//go:embed schema/plan.schema.json
var JSONSchema []byte

const planSchemaURL = "urn:teamslink:plan:v1"

// maxPlanBytes bounds a plan file: DefaultLimit records per fix are far
// below it.
const maxPlanBytes = 256 << 20

var compiledPlanSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		return nil, fmt.Errorf("parse the plan schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(planSchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(planSchemaURL)
})

// validatePlan checks raw against JSONSchema; the error names each place
// that does not fit (at most five).
func validatePlan(raw []byte) error {
	s, err := compiledPlanSchema()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	err = s.Validate(doc)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	var problems []string
	var walk func(u *jsonschema.OutputUnit)
	walk = func(u *jsonschema.OutputUnit) {
		if len(u.Errors) > 0 {
			for i := range u.Errors {
				walk(&u.Errors[i])
			}
			return
		}
		if u.Error != nil && len(problems) < 5 {
			at := u.InstanceLocation
			if at == "" {
				at = "/"
			}
			problems = append(problems, at+": "+u.Error.String())
		}
	}
	walk(verr.DetailedOutput())
	return fmt.Errorf("the plan schema refuses it: %s", strings.Join(problems, "; "))
}
