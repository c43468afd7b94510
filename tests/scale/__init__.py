"""Past one machine: PostgreSQL under the Prefect server, work pools, workers, fleets."""
