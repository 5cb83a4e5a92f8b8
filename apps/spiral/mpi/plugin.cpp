// libspiral_mpi.so: the MPI calls of `spiral power`, loaded by the CLI only when mpirun
// launched it (MpiWorld in apps/spiral/cmd_simulate.cpp), so that other runs do not map OpenMPI and its
// libraries at start. A C interface: the CLI looks these names up with dlsym.
#include <mpi.h>

extern "C" {

// Initializes MPI unless it already is; returns 1 when this call did (then finish() is due).
int spiral_mpi_start(int* rank, int* size) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) MPI_Init(nullptr, nullptr);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return initialized ? 0 : 1;
}

void spiral_mpi_finish() { MPI_Finalize(); }

// Every rank's `length` into `lengths` (one per rank) on rank 0.
void spiral_mpi_gather_length(int length, int* lengths) {
  MPI_Gather(&length, 1, MPI_INT, lengths, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

// Every rank's bytes, in rank order, into `all` on rank 0.
void spiral_mpi_gather_bytes(const char* mine, int length, char* all, const int* lengths, const int* offsets) {
  MPI_Gatherv(mine, length, MPI_CHAR, all, lengths, offsets, MPI_CHAR, 0, MPI_COMM_WORLD);
}

}  // extern "C"
