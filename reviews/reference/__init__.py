"""Reference facts that uprtrax loads into every database: groups, states, organisations, the UPR calendar.

Plain data, written by hand from public sources and reviewed like code. `reviews.services.reference_data_load()`
writes it to the database; nothing here touches the database.
"""
