"""The desktop client (`hrdata gui`): a Tkinter window that drives the REST API, and only it.

    client.py   ApiClient: typed calls over httpx; every failure becomes one readable ApiError
    uploader.py a CSV file in batches of up to 1000 rows, resumable from a journal, cancellable
    export.py   a metric's CSV saved to a file, cells neutralised for spreadsheets
    config.py   the connection remembered on request (0600 file in the user's config dir)
    tasks.py    work in worker threads, results delivered to the Tk thread through a queue
    chart.py    the metrics chart on a Tk canvas
    widgets.py  what the tabs are built of
    tabs/       one module per tab: connection, migrate, upload, backups, metrics
    app.py      the window: the notebook of tabs and the status line; `run()` opens it

client, uploader, export, config and tasks import no Tk, so they are tested without a display.
The command line opens the window through `app.run`.
"""

__all__ = ["app", "client"]
