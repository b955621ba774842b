// Package odata is the one HTTP client that every collector, and later the
// remediator, uses to talk to the Dataverse Web API and Microsoft Graph.
//
// It owns the plumbing that each caller would otherwise get subtly wrong:
//
//   - auth: a bearer token from an azcore.TokenCredential, cached until shortly
//     before it expires, never written into an error, URL or hook argument;
//   - the default headers of each API flavour (Dataverse always sends Accept,
//     OData-MaxVersion, OData-Version and If-None-Match: null);
//   - retries of 429 and 503 (and, for requests that are safe to repeat, 502,
//     504 and connection errors) after Retry-After or an exponential backoff
//     with jitter, bounded by a number of retries and a total wait;
//   - a deadline per attempt and a size limit on every response body;
//   - typed errors: *APIError (the OData {"error":{"code","message"}} body),
//     *ThrottledError, *AuthError, *DecodeError and ErrResponseTooLarge;
//   - paging through @odata.nextLink with Prefer: odata.maxpagesize, $count
//     with the Dataverse 5,000 cap, Dataverse multipart $batch and Graph JSON
//     $batch.
//
// It contains no collector logic: it knows nothing of organizations, sites or
// licences, only of requests, responses and the OData wire conventions.
//
// # Token refresh on 401
//
// On a 401 response the client drops its cached token, asks the credential
// for a token again and repeats the request once; a second 401 is an
// *AuthError. azidentity keeps its own token cache and answers GetToken from
// it until the token is close to expiry, so the second token can be the same
// string as the first: this client cannot force a new one (azidentity only
// bypasses its cache for a claims challenge, which this client does not
// request because it does not enable continuous access evaluation). The
// single retry still recovers from the common cases: a token this client
// cached after the credential had already renewed it, and a clock skew at
// the expiry edge. A token that the service keeps refusing surfaces as an
// *AuthError after exactly two attempts, never as a loop.
//
// # Assumptions
//
// The facts this package relies on are in the project's Microsoft facts
// reference (§7 Dataverse mechanics, §9 Graph batching and throttling, §12
// wire encodings). Two behaviours are this package's own choices rather than
// documented facts: Prefer: odata.maxpagesize is sent to Graph too, where it
// may be ignored (Graph then pages at its own size and the nextLink is still
// followed), and a Dataverse @odata.count equal to 5,000 without the
// totalrecordcountlimitexceeded annotation is reported as capped, because the
// count cannot tell exactly 5,000 from more.
package odata
