"""One module per tab of the window; each builds its widgets and talks to the API through
the App's client, off the UI thread."""
