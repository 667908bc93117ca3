package store

import "encoding/json"

// Table describes a table the pipeline writes, in terms any store can use
// without knowing where the records come from: its key and its typed
// columns (those of every table, Spec.Columns, then its own). A store
// that types columns (BigQuery) makes them from it; the record itself
// always keeps every field, typed or not.
type Table struct {
	Name string `json:"name"`
	// Key: the fields that identify one object ("a.b" is field b of the
	// object in field a); the latest state of an object is its record
	// with the greatest updated_at, then data_date.
	Key []string `json:"key,omitempty"`
	// Columns: fields worth a typed column, in the order given; a
	// record's field fills its column only when its value has the type.
	Columns []Column `json:"columns,omitempty"`
}

// Column is a typed column of a table.
type Column struct {
	Name string     `json:"name"`
	Type ColumnType `json:"type"`
}

// ColumnType is the type of a column.
type ColumnType string

// The column types.
const (
	Integer   ColumnType = "integer"   // a JSON number without fraction
	Timestamp ColumnType = "timestamp" // a JSON string holding an ISO 8601 time
)

// Where Enrich writes a record's load time (the run's data_date): in
// DataDateField, or in ShadowDataDateField when the API's object has a
// data_date of its own (kept as the API sent it).
const (
	DataDateField       = "data_date"
	ShadowDataDateField = "_data_date"
)

// DataDateFieldOf returns the field Enrich writes the load time of the
// API object obj into.
func DataDateFieldOf(obj map[string]json.RawMessage) string {
	if _, ok := obj[DataDateField]; ok {
		return ShadowDataDateField
	}
	return DataDateField
}

// DataDate returns the load time of an enriched record (nil when it has
// none) and the field that holds it.
func DataDate(rec map[string]json.RawMessage) (json.RawMessage, string) {
	if v, ok := rec[ShadowDataDateField]; ok {
		return v, ShadowDataDateField
	}
	return rec[DataDateField], DataDateField
}
