package admin

import (
	"net/http"

	"github.com/strait-gateway/strait/resource"
)

// docs serves an OpenAPI 3 description of the API, built from the resource
// kinds so it cannot drift from what the API serves.
func (a *API) docs(w http.ResponseWriter, _ *http.Request) {
	errorResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	doc := map[string]any{"type": "object", "required": []string{"apiVersion", "kind", "metadata"}, "properties": map[string]any{
		"apiVersion": map[string]any{"type": "string", "enum": []string{resource.APIVersion}},
		"kind":       map[string]any{"type": "string", "enum": resource.KindNames()},
		"metadata":   map[string]any{"type": "object"},
		"spec":       map[string]any{"type": "object"},
	}}
	paths := map[string]any{}
	for _, kind := range resource.KindNames() {
		p := "/gateway/v2/" + resource.PathForKind(kind)
		docRef := map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Resource"}}}
		filters := []any{}
		for _, q := range []string{"name", "vCluster", "group", "username"} {
			filters = append(filters, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		paths[p] = map[string]any{
			"get": map[string]any{"summary": "List " + kind + " resources", "parameters": filters,
				"responses": map[string]any{"200": map[string]any{"description": "the matching resources",
					"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/Resource"}}}}},
					"401": errorResp("not authenticated")}},
			"put": map[string]any{"summary": "Create or update a " + kind,
				"parameters":  []any{map[string]any{"name": "dryMode", "in": "query", "schema": map[string]any{"type": "boolean"}}},
				"requestBody": map[string]any{"required": true, "content": docRef},
				"responses": map[string]any{"200": map[string]any{"description": "resource and upsertResult (CREATED, UPDATED or NOT_CHANGED)",
					"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/UpsertResult"}}}},
					"400": errorResp("invalid resource; msg names the field"), "401": errorResp("not authenticated"), "403": errorResp("read-only user")}},
		}
		paths[p+"/{name}"] = map[string]any{
			"parameters": []any{map[string]any{"name": "name", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}},
			"get": map[string]any{"summary": "Get one " + kind, "responses": map[string]any{"200": map[string]any{"description": "the resource", "content": docRef},
				"404": errorResp("not found"), "409": errorResp("name not unique; add filters")}},
			"delete": map[string]any{"summary": "Delete a " + kind + "; send its identity (scope, vCluster) as the body when the name is not unique",
				"responses": map[string]any{"204": map[string]any{"description": "deleted"}, "404": errorResp("not found"), "409": errorResp("name not unique")}},
		}
	}
	anyJSON := map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}}
	paths["/gateway/v2/interceptor/resolve"] = map[string]any{"post": map[string]any{
		"summary": "The Interceptor resources that apply to a client, in the order they run",
		"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"type": "object", "properties": map[string]any{"vCluster": map[string]any{"type": "string"}, "username": map[string]any{"type": "string"},
				"groups": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}}}},
		"responses": map[string]any{"200": map[string]any{"description": "Interceptor resources", "content": anyJSON}, "400": errorResp("malformed query")}}}
	paths["/gateway/v2/plugin"] = map[string]any{"get": map[string]any{
		"summary":   "Every plugin: names accepted as pluginClass, config schema, README",
		"responses": map[string]any{"200": map[string]any{"description": "plugins", "content": anyJSON}}}}
	writeJSON(w, http.StatusOK, map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Strait admin API", "version": "v2"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"basic": map[string]any{"type": "http", "scheme": "basic"}},
			"schemas": map[string]any{
				"Resource":     doc,
				"UpsertResult": map[string]any{"type": "object", "properties": map[string]any{"resource": map[string]any{"$ref": "#/components/schemas/Resource"}, "upsertResult": map[string]any{"type": "string", "enum": []string{"CREATED", "UPDATED", "NOT_CHANGED"}}}},
				"Error":        map[string]any{"type": "object", "properties": map[string]any{"title": map[string]any{"type": "string"}, "msg": map[string]any{"type": "string"}}},
			},
		},
		"security": []any{map[string]any{"basic": []any{}}},
	})
}
