package desktop

import "sync"

// The app's own words, in English and Spanish. Each screen's file adds its
// own with addTexts; a key missing in Spanish falls back to English, and a
// key missing altogether shows as itself, so a forgotten text is visible
// but harmless.
var (
	textsMu sync.RWMutex
	texts   = map[string][2]string{}
)

// addTexts registers texts: key → {English, Spanish}.
func addTexts(m map[string][2]string) {
	textsMu.Lock()
	defer textsMu.Unlock()
	for k, v := range m {
		texts[k] = v
	}
}

// text is key's text in lang.
func text(lang, key string) string {
	textsMu.RLock()
	v, ok := texts[key]
	textsMu.RUnlock()
	switch {
	case !ok:
		return key
	case lang == "es" && v[1] != "":
		return v[1]
	}
	return v[0]
}

func init() {
	addTexts(map[string][2]string{
		"app.title":        {"Lifeline", "Lifeline"},
		"tab.new":          {"New record", "Nuevo registro"},
		"tab.records":      {"Records", "Registros"},
		"tab.sync":         {"Sync", "Sincronizar"},
		"tab.hq":           {"Headquarters", "Sede central"},
		"lang.switch":      {"Español", "English"},
		"busy":             {"Working…", "Trabajando…"},
		"error":            {"Something went wrong", "Algo salió mal"},
		"ok":               {"OK", "Aceptar"},
		"cancel":           {"Cancel", "Cancelar"},
		"role.field":       {"Field laptop", "Portátil de campo"},
		"role.relay":       {"District relay", "Relevo distrital"},
		"role.hq":          {"Headquarters", "Sede central"},
		"status.saved":     {"Saved here", "Guardado aquí"},
		"status.sent":      {"Sent", "Enviado"},
		"status.confirmed": {"Confirmed at HQ", "Confirmado en la sede"},
	})
}
