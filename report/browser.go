package report

// BrowserFlags run Debian's Chromium headless on a machine without internet (the same
// as tools/demo's): without the background-networking flags it keeps trying to reach
// Google's hosts. profile is a throwaway user data directory.
func BrowserFlags(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile}
}
