# Simulator tests; include()d from tests/CMakeLists.txt.
add_executable(test_simflash ${CMAKE_CURRENT_LIST_DIR}/test_simflash.c)
target_link_libraries(test_simflash tb_sim cmocka)
add_test(NAME simflash COMMAND test_simflash)
