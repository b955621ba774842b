package odata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// countAnnotations is the Prefer value that asks Dataverse for the total
// record count annotations next to @odata.count.
const countAnnotations = `odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`

// collectionPage is one page of an OData collection.
type collectionPage struct {
	Value    *[]json.RawMessage `json:"value"`
	NextLink string             `json:"@odata.nextLink"`
}

// Pages reads the collection at path page by page, calling fn once per item
// in order, and stops after maxItems items (maxItems <= 0 reads everything).
// Every request, the first and each @odata.nextLink, carries
// Prefer: odata.maxpagesize=Options.MaxPageSize; next links are followed
// unchanged and must stay on the client's host (else ErrForeignHost, and
// nothing is sent there). truncated reports that maxItems stopped the read
// while more items existed. An error from fn stops the read and is returned
// wrapped. Each page request has its own retry budget.
func (c *Client) Pages(ctx context.Context, path string, maxItems int, fn func(raw json.RawMessage) error) (truncated bool, err error) {
	u, err := c.resolve(path)
	if err != nil {
		return false, fmt.Errorf("read pages: %w", err)
	}
	header := http.Header{"Prefer": {"odata.maxpagesize=" + strconv.Itoa(c.opts.MaxPageSize)}}
	seen := 0
	for page := 1; ; page++ {
		resp, err := c.send(ctx, http.MethodGet, u, header, nil, true, c.newBudget())
		if err != nil {
			return false, fmt.Errorf("read page %d: %w", page, err)
		}
		var pg collectionPage
		if err := resp.DecodeJSON(&pg); err != nil {
			return false, err
		}
		if pg.Value == nil {
			return false, &DecodeError{Method: http.MethodGet, URL: resp.RequestURL, Err: errors.New(`the response has no "value" array`)}
		}
		for _, item := range *pg.Value {
			if maxItems > 0 && seen >= maxItems {
				return true, nil
			}
			if err := fn(item); err != nil {
				return false, fmt.Errorf("process item %d of %s: %w", seen+1, resp.RequestURL, err)
			}
			seen++
		}
		if pg.NextLink == "" {
			return false, nil
		}
		if maxItems > 0 && seen >= maxItems {
			return true, nil
		}
		next, err := c.resolveNext(u, pg.NextLink)
		if err != nil {
			return false, fmt.Errorf("follow next link of page %d: %w", page, err)
		}
		if next.String() == u.String() {
			return false, &DecodeError{Method: http.MethodGet, URL: resp.RequestURL, Err: errors.New("the next link points at the same page")}
		}
		u = next
	}
}

// Count returns the number of rows the collection at path holds, using
// $count=true (added to the query unless present) and @odata.count. Dataverse
// caps the count (5,000 for standard tables); capped reports that the real
// number is larger: from the
// @Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded annotation, which the
// request asks for with Prefer: odata.include-annotations, or, when the
// annotation is missing, from a Dataverse count equal to DataverseCountCap.
// The request also asks for a page of one row, since the count does not
// depend on the page size.
func (c *Client) Count(ctx context.Context, path string) (n int, capped bool, err error) {
	u, err := c.resolve(path)
	if err != nil {
		return 0, false, fmt.Errorf("count: %w", err)
	}
	u = withCountOption(u)
	prefer := "odata.maxpagesize=1"
	if c.opts.Flavor == Dataverse {
		prefer = countAnnotations + ",odata.maxpagesize=1"
	}
	resp, err := c.send(ctx, http.MethodGet, u, http.Header{"Prefer": {prefer}}, nil, true, c.newBudget())
	if err != nil {
		return 0, false, fmt.Errorf("count: %w", err)
	}
	var body struct {
		Count         *int64 `json:"@odata.count"`
		LimitExceeded *bool  `json:"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`
	}
	if err := resp.DecodeJSON(&body); err != nil {
		return 0, false, err
	}
	if body.Count == nil {
		return 0, false, &DecodeError{Method: http.MethodGet, URL: resp.RequestURL, Err: errors.New("the response has no @odata.count")}
	}
	if *body.Count < 0 {
		return 0, false, &DecodeError{Method: http.MethodGet, URL: resp.RequestURL, Err: fmt.Errorf("negative @odata.count %d", *body.Count)}
	}
	n = int(*body.Count)
	switch {
	case body.LimitExceeded != nil:
		capped = *body.LimitExceeded
	case c.opts.Flavor == Dataverse:
		capped = n >= DataverseCountCap
	}
	return n, capped, nil
}

// withCountOption returns u with $count=true in its query unless a $count
// option is already there.
func withCountOption(u *url.URL) *url.URL {
	v := *u
	for _, p := range strings.Split(v.RawQuery, "&") {
		key, _, _ := strings.Cut(p, "=")
		if key == "$count" || key == "%24count" {
			return &v
		}
	}
	if v.RawQuery == "" {
		v.RawQuery = "$count=true"
	} else {
		v.RawQuery += "&$count=true"
	}
	return &v
}
