from gte_search.cli import main

main()
