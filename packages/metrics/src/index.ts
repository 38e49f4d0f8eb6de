// The paper's metrics: Acc-2 (both conventions), F1, weighted F1, ECPE pair F1, tolerant answer parsing
export {};
