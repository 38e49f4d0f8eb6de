// The au-scorer service
export {};
