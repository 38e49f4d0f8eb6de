// The EMT dataset: MELD/ECF/MOSEI loaders, five instruction tasks, ERI backends, quality control, shards
export {};
