"""Demo and test feeders, outside the runtime package: replay of a dataset into a landing place
(file, SQL, S3, HTTP), the local HTTP test API, and the production-like stack driver."""
