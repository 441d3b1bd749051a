package catalog

// Audit: recording chosen requests on the audit topic.
import (
	_ "github.com/strait-gateway/strait/plugins/auditplugin" // AuditPlugin
)
