"""The single ordered writer: takes queued work in batches, searches the gallery (in process or
across shard servers), commits datasets, hits, audit events and index-log rows in one
transaction, then applies the changes to the gallery before the next batch.

    commands.py   what the writer is asked to do (typed work items) and the index changes
    pipeline.py   the queue and the one worker thread that takes it in batches
    batch.py      one batch: search, plan, store, audit, index log, publish
    records.py    its statistics and audit events
    gallery.py    what the writer searches through: the in-process gallery (default)
    index_log.py  the index log and the epoch check in the database
    models.py     their tables (index_log, writer_epoch)
"""
